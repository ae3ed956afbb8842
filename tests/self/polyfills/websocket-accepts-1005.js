// BROKEN ON PURPOSE (self-test): a WebSocket whose close() accepts code 1005. The WebSockets standard's
// close() throws InvalidAccessError for any code other than 1000 and 3000-4999; 1005 must never be sent.
(function () {
  const close = window.WebSocket.prototype.close;
  window.WebSocket.prototype.close = function (code, reason) {
    if (code === 1005) return close.call(this);
    return close.apply(this, arguments);
  };
})();
