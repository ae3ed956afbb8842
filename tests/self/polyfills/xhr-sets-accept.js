// BROKEN ON PURPOSE (self-test): an XMLHttpRequest that sends `Accept: text/html` when the author set no
// Accept. Fetch appends `Accept: */*` to a request whose header list has no Accept (an XHR's destination is
// the empty string).
(function () {
  const Real = window.XMLHttpRequest;
  const set = Real.prototype.setRequestHeader, send = Real.prototype.send;
  Real.prototype.setRequestHeader = function (name) {
    if (String(name).toLowerCase() === 'accept') this.__accept = true;
    return set.apply(this, arguments);
  };
  Real.prototype.send = function () {
    if (!this.__accept) { try { set.call(this, 'Accept', 'text/html'); } catch (e) { /* not opened */ } }  // BROKEN
    return send.apply(this, arguments);
  };
})();
