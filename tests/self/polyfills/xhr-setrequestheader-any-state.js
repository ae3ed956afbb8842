// BROKEN ON PURPOSE (self-test): an XMLHttpRequest whose setRequestHeader() never throws, whatever the
// state. The XHR standard throws InvalidStateError when the state is not OPENED or the send() flag is set,
// and SyntaxError for a name or value that is not a header name or value.
(function () {
  const set = window.XMLHttpRequest.prototype.setRequestHeader;
  window.XMLHttpRequest.prototype.setRequestHeader = function () {
    try { return set.apply(this, arguments); } catch (e) { return undefined; }  // BROKEN
  };
})();
