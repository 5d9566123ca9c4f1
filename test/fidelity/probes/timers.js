// Timer and Promise ordering (the main loop's event order).
// probe: timeout-vs-promise
// A reaction runs before a timer that is not yet due. (setTimeout(fn, 0) is
// not compared: it waits TIMER_MIN_INTERVAL, 0.1 ms, so whether it runs
// before a reaction depends on how long the rest of the script takes. Times
// in the timer probes are far apart so that a loaded host keeps the order.)
setTimeout(function () { print("timeout 300"); }, 300);
Promise.resolve().then(function () { print("then 1"); });
print("sync");
Promise.resolve().then(function () { print("then 2"); });
// probe: promise-chain-order
Promise.resolve().then(function () { print("a1"); return 1; }).then(function () { print("a2"); });
Promise.resolve().then(function () { print("b1"); }).then(function () { print("b2"); });
// probe: timeout-order-same-time
setTimeout(function () { print("late"); }, 200);
setTimeout(function () { print("first"); }, 10);
setTimeout(function () { print("second"); }, 10);
// probe: overdue-order
// Both timers are overdue when the script ends: the board runs the due
// timers of one idle pass in the order they were added (jsiIdle).
setTimeout(function () { print("added first, due at 30 ms"); }, 30);
setTimeout(function () { print("added second, due at 10 ms"); }, 10);
var t0 = getTime();
while (getTime() < t0 + 0.06) {}
// probe: interval-vs-timeout
var n = 0;
var iv = setInterval(function () { print("interval", ++n); if (n === 3) clearInterval(iv); }, 200);
setTimeout(function () { print("timeout 500"); }, 500);
// probe: timer-ids
var t1 = setTimeout(function () {}, 10);
var t2 = setTimeout(function () {}, 20);
var t3 = setInterval(function () {}, 30);
print(typeof t1, t1, t2, t3);
clearTimeout(t1); clearTimeout(t2); clearInterval(t3);
var t4 = setTimeout(function () {}, 1);
print(t4);
// probe: clear-unknown
try { clearTimeout(99); print("no throw"); } catch (e) { print("threw", "" + e); }
try { clearInterval(99); print("no throw"); } catch (e) { print("threw", "" + e); }
// probe: clear-undefined
try { clearTimeout(); print("cleared all"); } catch (e) { print("threw", "" + e); }
// probe: timeout-args
setTimeout(function (a, b) { print("args", a, b); }, 1, "x", 2);
// probe: timeout-string
setTimeout("print('from string')", 1);
// probe: nested-timeout-in-then
Promise.resolve().then(function () { setTimeout(function () { print("t in then"); }, 400); print("then"); });
setTimeout(function () { print("t outer"); }, 200);
// probe: promise-all
Promise.all([1, Promise.resolve(2), new Promise(function (r) { setTimeout(function () { r(3); }, 5); })]).then(function (v) { print(v); });
// probe: promise-resolve-value
new Promise(function (resolve) { resolve(5); resolve(6); }).then(function (v) { print("got", v); });
new Promise(function (resolve, reject) { reject(new Error("no")); }).then(null, function (e) { print("rejected", e.message); });
// probe: timer-task-module
var t = require("timer");
print(typeof t, typeof t.add, typeof t.remove);
// probe: get-time
var t0 = getTime();
print(typeof t0, t0 > 0, getTime() >= t0, Math.floor(t0) === t0);
