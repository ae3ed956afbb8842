// BROKEN ON PURPOSE (self-test): an XMLHttpRequest that fires `load` before readystatechange(4).
// The XHR standard fires readystatechange for DONE first, then load, then loadend ("handle response
// end-of-body"; "request error steps" never fire load at all).
(function () {
  const Real = window.XMLHttpRequest;
  const add = Real.prototype.addEventListener;
  Real.prototype.addEventListener = function (type, fn, opts) {
    const xhr = this;
    if (type === 'readystatechange') {
      return add.call(this, type, function (e) {
        if (xhr.readyState === 4 && !xhr.__earlyLoad) {
          xhr.__earlyLoad = true;
          xhr.dispatchEvent(new ProgressEvent('load'));
        }
        return fn.call(this, e);
      }, opts);
    }
    if (type === 'load') {
      return add.call(this, type, function (e) {
        if (e.isTrusted && xhr.__earlyLoad) return; // already "fired", early
        return fn.call(this, e);
      }, opts);
    }
    return add.call(this, type, fn, opts);
  };
})();
