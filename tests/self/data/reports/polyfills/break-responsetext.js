// Breaks xhr/selftest-reports/hello: responseText reads "broken" (tests/self/test_reports_gating.py).
(function () {
  var d = Object.getOwnPropertyDescriptor(XMLHttpRequest.prototype, "responseText");
  Object.defineProperty(XMLHttpRequest.prototype, "responseText", {
    configurable: true,
    get: function () { var v = d.get.call(this); return v === "hello" ? "broken" : v; }
  });
})();
