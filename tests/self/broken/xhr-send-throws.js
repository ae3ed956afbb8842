'use strict';
// BROKEN ON PURPOSE (self-test): an XMLHttpRequest (xhr2 underneath) whose send() throws a TypeError, as
// xmlhttprequest 1.8.0's send() does for a body it cannot handle. No case allows an exception there, so the
// case must end at once as FAIL naming the step and the exception, not wait for `load` until its deadline
// (harness/MODEL.md §3, "causes first").
const path = require('path');
const NODE = path.join(__dirname, '..', '..', '..', 'fixtures', 'node');
const XHR = require(require.resolve('xhr2', { paths: [NODE] }));

class SendThrowsXMLHttpRequest extends XHR {
  send() {
    throw new TypeError('send is broken on purpose');   // BROKEN
  }
}

module.exports = { XMLHttpRequest: SendThrowsXMLHttpRequest, name: 'xhr2-broken-send-throws', version: '0' };
