// BROKEN ON PURPOSE (self-test): bufferedAmount always reads 0, as if send() queued nothing (WebSockets
// Standard, send(): every call that does not throw "must increase the bufferedAmount attribute" by the bytes
// it queues, and the getter counts bytes sent in the current task).
(function () {
  Object.defineProperty(window.WebSocket.prototype, 'bufferedAmount', {get() { return 0; }, configurable: true});
})();
