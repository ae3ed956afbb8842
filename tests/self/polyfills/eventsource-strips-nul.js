// BROKEN ON PURPOSE (self-test): an EventSource whose message events lose every U+0000 in their data, and
// report the page's own origin. The HTML standard keeps a data field's value as it is (NUL included) and sets
// a message's origin to that of the stream's final URL (after redirects).
(function () {
  const Real = window.EventSource;
  const add = Real.prototype.addEventListener;
  Real.prototype.addEventListener = function (type, fn, opts) {
    if (type === 'open' || type === 'error') return add.call(this, type, fn, opts);
    return add.call(this, type, function (e) {
      const copy = new MessageEvent(e.type, {
        data: String(e.data).replace(/\0/g, ''), origin: location.origin, lastEventId: e.lastEventId,  // BROKEN
      });
      return fn.call(this, copy);
    }, opts);
  };
})();
