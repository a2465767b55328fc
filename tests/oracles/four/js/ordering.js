// tests/oracles/four/js/ordering.js: the job-queue rules of node that the
// promise model (interop/js/) claims, in one script; ordering.expected holds
// node's output. The C++ twin is twins/js_ordering_twin.cc.
'use strict';
const p = (s) => console.log(s);

p('script start');
setTimeout(() => p('timeout A (0 ms)'), 0);
setTimeout(() => {
  p('timeout B (0 ms)');
  Promise.resolve().then(() => p('microtask queued by timeout B'));
}, 0);
setTimeout(() => p('timeout C (5 ms)'), 5);
Promise.resolve().then(() => p('then 1')).then(() => p('then 2 (chained)'));
queueMicrotask(() => p('queueMicrotask'));
new Promise((resolve) => {
  p('executor runs at once');
  resolve();
}).then(() => p('then of a promise resolved in its executor'));
(async () => {
  p('async body runs at once');
  await null;
  p('async body after await null');
})();
const one = Promise.resolve(1);
new Promise((resolve) => resolve(one)).then(() => p('resolved with a promise: two turns later'));
one.then(() => p('then of that promise'));
Promise.reject(new Error('x')).catch(() => p('catch of a rejected promise'));
p('script end');
