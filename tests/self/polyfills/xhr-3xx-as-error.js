// BROKEN ON PURPOSE (self-test): an XMLHttpRequest that treats any 3xx response it is handed as a failed
// redirect: status 0, and `error` instead of `load`. Fetch's HTTP-redirect fetch returns a 3xx that has no
// Location as the response itself, which the page reads like any other (status 3xx, load).
(function () {
  const Real = window.XMLHttpRequest;
  const status = Object.getOwnPropertyDescriptor(Real.prototype, 'status').get;
  const add = Real.prototype.addEventListener;
  const is3xx = (x) => { const s = status.call(x); return s >= 300 && s < 400; };
  Object.defineProperty(Real.prototype, 'status', {
    configurable: true,
    get() { return is3xx(this) ? 0 : status.call(this); },  // BROKEN
  });
  Real.prototype.addEventListener = function (type, fn, opts) {
    const xhr = this;
    if (type === 'load') {
      return add.call(this, type, function (e) {
        if (!is3xx(xhr)) return fn.call(this, e);
        return undefined;                                    // BROKEN: no load for a 3xx ...
      }, opts);
    }
    if (type === 'loadend') {
      return add.call(this, type, function (e) {
        if (is3xx(xhr) && !xhr.__errored) { xhr.__errored = true; xhr.dispatchEvent(new ProgressEvent('error')); }
        return fn.call(this, e);                             // ... but an error before loadend
      }, opts);
    }
    return add.call(this, type, fn, opts);
  };
})();
