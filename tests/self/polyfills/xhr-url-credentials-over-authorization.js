// BROKEN ON PURPOSE (self-test): an XMLHttpRequest that, given a user and password in open(), replaces the
// author's Authorization header with Basic credentials built from them. Fetch adds an Authorization value
// only "if httpRequest's header list does not contain `Authorization`": the author's header goes out as set.
(function () {
  const Real = window.XMLHttpRequest;
  const open = Real.prototype.open, set = Real.prototype.setRequestHeader;
  Real.prototype.open = function (method, url, async, user, password) {
    this.__basic = user != null ? 'Basic ' + btoa(user + ':' + (password == null ? '' : password)) : null;
    return open.apply(this, arguments);
  };
  Real.prototype.setRequestHeader = function (name, value) {
    if (this.__basic && String(name).toLowerCase() === 'authorization') value = this.__basic;  // BROKEN
    return set.call(this, name, value);
  };
})();
