// BROKEN ON PURPOSE (self-test): a WebSocket constructor that repairs what it must refuse: it drops a URL's
// fragment and repeated subprotocols instead of throwing SyntaxError (WebSockets Standard, the constructor: a
// non-null fragment, or a value in protocols that occurs more than once, throws a "SyntaxError" DOMException).
(function () {
  const Original = window.WebSocket;
  class LaxWebSocket extends Original {
    constructor(url, protocols) {
      const u = String(url).split('#')[0];
      if (Array.isArray(protocols)) protocols = protocols.filter((p, i) => protocols.indexOf(p) === i);
      if (protocols === undefined) super(u); else super(u, protocols);
    }
  }
  window.WebSocket = LaxWebSocket;
})();
