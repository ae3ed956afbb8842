// BROKEN ON PURPOSE (self-test): send(view) sends the view's whole underlying buffer, not the view's section of
// it (WebSockets Standard, send(): "the data stored in the section of the buffer described by the ArrayBuffer
// object that data references").
(function () {
  const send = window.WebSocket.prototype.send;
  window.WebSocket.prototype.send = function (data) {
    if (ArrayBuffer.isView(data)) return send.call(this, data.buffer);
    return send.call(this, data);
  };
})();
