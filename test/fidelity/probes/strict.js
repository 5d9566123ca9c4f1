// The bundle starts with "use strict" (rollup's output): what strict mode
// changes, inside a function as the bundle's IIFE runs.
// probe: strict-undeclared-assign
!function () {
  "use strict";
  try { undeclaredName = 1; print("assigned", typeof undeclaredName); } catch (e) { print("threw", "" + e); }
}();
// probe: strict-this
!function () {
  "use strict";
  function f() { return this; }
  print(typeof f(), f() === undefined);
}();
// probe: strict-readonly-write
!function () {
  "use strict";
  var o = {};
  Object.defineProperty(o, "x", { value: 1, writable: false });
  try { o.x = 2; print("no throw", o.x); } catch (e) { print("threw", "" + e); }
}();
// probe: strict-arguments
!function () {
  "use strict";
  function f(a) { a = 2; return arguments[0]; }
  print(f(1));
}();
// probe: sloppy-this
function g() { return this; }
print(typeof g(), g() === global);
