// BROKEN ON PURPOSE (self-test): a WebSocket that reports every close as clean. The WebSockets standard
// sets wasClean only when the closing handshake completed and the TCP connection closed after it; an
// abrupt close is not clean (and its code is 1006).
(function () {
  const Real = window.WebSocket;
  const add = Real.prototype.addEventListener;
  Real.prototype.addEventListener = function (type, fn, opts) {
    if (type !== 'close') return add.call(this, type, fn, opts);
    return add.call(this, type, function (e) {
      const clean = new CloseEvent('close', { code: e.code, reason: e.reason, wasClean: true });
      Object.defineProperty(clean, 'target', { value: e.target });
      return fn.call(this, clean);
    }, opts);
  };
})();
