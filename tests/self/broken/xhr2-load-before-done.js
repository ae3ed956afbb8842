'use strict';
// BROKEN ON PURPOSE (self-test): xhr2 whose `load` fires before readystatechange(4). The XHR standard
// ("handle response end-of-body") fires readystatechange for DONE first, then load, then loadend.
// Use: --client node:tests/self/broken/xhr2-load-before-done.js
const path = require('path');
const NODE = path.join(__dirname, '..', '..', '..', 'fixtures', 'node');
const XHR = require(require.resolve('xhr2', { paths: [NODE] }));

class BrokenXMLHttpRequest extends XHR {
  // xhr2 0.2.1's end-of-body handler, with load moved ahead of readystatechange(4).
  _onHttpResponseEnd(response) {
    if (this._response !== response) return undefined;
    this._parseResponse();
    this._request = null;
    this._response = null;
    this._dispatchProgress('load');             // BROKEN: load first ...
    this._setReadyState(XHR.DONE);              // ... readystatechange(4) after it
    return this._dispatchProgress('loadend');
  }
}

module.exports = {
  XMLHttpRequest: BrokenXMLHttpRequest,
  name: 'xhr2-broken-load-before-done',
  version: require(require.resolve('xhr2/package.json', { paths: [NODE] })).version,
  caps: require(path.join(NODE, 'libs', 'xhr2.js')).caps,
};
