// BROKEN ON PURPOSE (self-test): an XMLHttpRequest whose timeout leaves status 200 instead of 0.
// The XHR standard's request error steps set the response to a network error: status 0.
(function () {
  const Real = window.XMLHttpRequest;
  const status = Object.getOwnPropertyDescriptor(Real.prototype, 'status').get;
  class Broken extends Real {
    constructor() {
      super();
      super.addEventListener('timeout', () => { this.__timedOut = true; });
    }
    get status() { return this.__timedOut ? 200 : status.call(this); }
  }
  window.XMLHttpRequest = Broken;
})();
