// Breaks xhr/selftest-reports/hello on the runner's even-numbered runs only (run=r2, r4, ...), so that
// `--repeat 2` with one client sees it PASS then FAIL: a deterministic "flaky" case for the self-tests.
(function () {
  var m = /[?&]run=r(\d+)/.exec(location.search);
  if (!m || Number(m[1]) % 2 !== 0) return;
  var d = Object.getOwnPropertyDescriptor(XMLHttpRequest.prototype, "responseText");
  Object.defineProperty(XMLHttpRequest.prototype, "responseText", {
    configurable: true,
    get: function () { var v = d.get.call(this); return v === "hello" ? "broken" : v; }
  });
})();
