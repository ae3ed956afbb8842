// BROKEN ON PURPOSE (self-test): an XMLHttpRequest whose open() never throws: a method that is not a token,
// or CONNECT/TRACE/TRACK, is swallowed silently. The XHR standard's open() throws SyntaxError for a method
// that is not a method token and SecurityError for a forbidden method.
(function () {
  const open = window.XMLHttpRequest.prototype.open;
  window.XMLHttpRequest.prototype.open = function () {
    try { return open.apply(this, arguments); } catch (e) { return undefined; }  // BROKEN
  };
})();
