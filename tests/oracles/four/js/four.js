// tests/oracles/four/js/four.js: the five programs in JavaScript (node).
// Each section prints a trace; four.expected holds it. The C++ twin is
// tests/oracles/four/twins/js_twin.cc, on the promise model in interop/js/.
'use strict';
const p = (s) => console.log(s);

// 1. Order of effects around a call that is not awaited at once.
// [START f]
async function f() {
  p('f: start');
  await null;
  p('f: after await');
  return 1;
}
// [END f]

async function one() {
  p('== 1 unawaited call');
  p('main: call f');
  const t = f();
  p('main: f returned');
  p('main: await');
  const v = await t;
  p('main: got ' + v);
}

// 2. Fan out three waits and join them; the events fire in the order B, C, A.
async function op(name, ev) {
  p(name + ': start');
  await ev;
  p(name + ': done');
  return name;
}

async function two() {
  p('== 2 fan out and join');
  const fire = {};
  const ev = (n) => new Promise((resolve) => { fire[n] = resolve; });
  p('main: start ops');
  const all = Promise.all([op('A', ev('A')), op('B', ev('B')), op('C', ev('C'))]);
  p('main: fire B');
  fire.B();
  p('main: fire C');
  fire.C();
  p('main: fire A');
  fire.A();
  const r = await all;
  p('main: joined ' + r.join(' '));
}

// 3. Cancel a pending operation with an AbortController.
// [START cancel]
async function cancellable(signal) {
  p('op: start');
  try {
    await new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => {
        p('op: abort listener');
        reject(signal.reason);
      }, { once: true });
    });
    p('op: after await');
    return 1;
  } catch (e) {
    p('op: caught ' + e.name);
    return -1;
  } finally {
    p('op: finally (cleanup)');
  }
}
// [END cancel]

async function three() {
  p('== 3 cancel');
  const ac = new AbortController();
  p('main: start op');
  const t = cancellable(ac.signal);
  p('main: abort');
  ac.abort();
  p('main: abort returned');
  p('main: got ' + await t);
}

// 4. One of three concurrent operations rejects; B's event fires first,
// A's and C's later, from a timer, while main awaits the join.
async function mayFail(name, ev, fail) {
  p(name + ': start');
  await ev;
  if (fail) {
    p(name + ': throws');
    throw new Error(name + ' failed');
  }
  p(name + ': done');
  return name;
}

async function four() {
  p('== 4 one of three fails');
  const fire = {};
  const ev = (n) => new Promise((resolve) => { fire[n] = resolve; });
  p('main: start ops');
  const ops = [mayFail('A', ev('A'), false), mayFail('B', ev('B'), true), mayFail('C', ev('C'), false)];
  const all = Promise.all(ops);
  p('main: fire B');
  fire.B();
  p('main: wait for the join; later: fire A, fire C');
  setTimeout(() => {
    p('later: fire A');
    fire.A();
    p('later: fire C');
    fire.C();
  }, 0);
  try {
    await all;
    p('main: all succeeded');
  } catch (e) {
    p('main: caught ' + e.message);
  }
  await Promise.allSettled(ops);
  p('main: all settled');
}

// 5. CPU-bound work inside an async function: who is blocked.
function spin() {
  let x = 1;
  for (let i = 0; i < 2000000; ++i) x = (x * 31 + i) % 1000003;
  return x;
}

async function busy() {
  p('busy: start');
  if (spin() === -1) p('busy: (unlikely)');
  p('busy: end');
}

async function five() {
  p('== 5 CPU-bound work');
  const ticked = new Promise((resolve) => {
    setTimeout(() => { p('tick: runs'); resolve(); }, 0);
  });
  p('main: set a 0 ms timer (tick), then call busy');
  const t = busy();
  p('main: busy returned');
  await t;
  await ticked;
}

(async () => {
  await one();
  await two();
  await three();
  await four();
  await five();
})();
