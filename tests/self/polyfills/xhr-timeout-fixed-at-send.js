// BROKEN ON PURPOSE (self-test): an XMLHttpRequest that takes its timeout at send() and ignores a new value
// set while the request is in progress. The XHR standard's timeout may be set during the fetch and is
// "still measured relative to the start of fetching".
(function () {
  const Real = window.XMLHttpRequest;
  const desc = Object.getOwnPropertyDescriptor(Real.prototype, 'timeout');
  const send = Real.prototype.send;
  Object.defineProperty(Real.prototype, 'timeout', {
    configurable: true,
    get() { return desc.get.call(this); },
    set(v) { if (!this.__sent) desc.set.call(this, v); },  // BROKEN: later values are dropped
  });
  Real.prototype.send = function () { this.__sent = true; return send.apply(this, arguments); };
})();
