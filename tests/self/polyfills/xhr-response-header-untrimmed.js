// BROKEN ON PURPOSE (self-test): an XMLHttpRequest whose getResponseHeader() puts a space back in front of
// every value, as a parser that keeps the optional whitespace after the colon would. RFC 9112 §5 excludes
// leading and trailing whitespace from a field line's value.
(function () {
  const get = window.XMLHttpRequest.prototype.getResponseHeader;
  window.XMLHttpRequest.prototype.getResponseHeader = function (name) {
    const v = get.call(this, name);
    return v === null ? v : ' ' + v;  // BROKEN
  };
})();
