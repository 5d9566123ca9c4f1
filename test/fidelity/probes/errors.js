// Errors: what the interpreter throws, how errors read, and the console's
// "Uncaught" lines.
// probe: error-name-instanceof
try { undefined.x; } catch (e) { print(e.name, e instanceof Error, e instanceof TypeError, typeof e.message); }
// probe: read-property-of-undefined
try { var o; o.x; } catch (e) { print("" + e); print(e.message); }
// probe: read-property-of-null
try { var o = null; o.x; } catch (e) { print("" + e); }
// probe: write-property-of-undefined
try { var o; o.x = 1; } catch (e) { print("" + e); }
// probe: undefined-variable
try { nosuchvar; } catch (e) { print("" + e); print(e.name, e instanceof ReferenceError, e.message); }
// probe: call-undefined-function
try { nosuchfn(); } catch (e) { print("" + e); }
// probe: call-missing-method
try { var o = {}; o.go(); } catch (e) { print("" + e); print(e instanceof TypeError); }
// probe: call-non-function
try { var x = 5; x(); } catch (e) { print("" + e); }
// probe: call-method-of-undefined
try { var o; o.go(); } catch (e) { print("" + e); }
// probe: new-non-constructor
try { var x = 5; new x(); } catch (e) { print("" + e); }
// probe: const-assign
try { const k = 1; k = 2; } catch (e) { print("" + e); }
// probe: json-parse-error
try { JSON.parse("{bad"); } catch (e) { print("" + e); }
// probe: user-errors
var e1 = new Error("boom");
var e2 = new TypeError("bad type");
var e3 = new RangeError("r");
print(e1.name, e2.name, e1.message, e1 instanceof Error, e2 instanceof TypeError, e2 instanceof Error, "" + e1, "" + e2, String(e3));
// probe: error-without-message
var e = new Error();
print("" + e, e.message, JSON.stringify(e.message));
// probe: error-keys
var e = new Error("m");
print(Object.keys(e), JSON.stringify(e.message), typeof e.stack);
// probe: print-error
print(new Error("boom"));
print(new TypeError("t"));
console.log(new Error("c"));
// probe: print-caught-runtime-error
try { undefined.x; } catch (e) { print(e); }
// probe: error-subclass
class MyError extends Error { constructor(m) { super(m); this.code = 7; } }
var e = new MyError("mine");
print(e instanceof MyError, e instanceof Error, e.code, e.message, "" + e);
// probe: uncaught-error-at-load
print("before");
throw new Error("load failed");
// probe: uncaught-string-at-load
throw "just a string";
// probe: uncaught-object-at-load
throw { code: 1 };
// probe: uncaught-number-at-load
throw 42;
// probe: uncaught-in-timeout
setTimeout(function () { throw new Error("in timer"); }, 1);
setTimeout(function () { print("next timer still runs"); }, 100);
// probe: uncaught-runtime-in-timeout
setTimeout(function () { var o; o.x = 1; }, 1);
setTimeout(function () { print("after"); }, 100);
// probe: uncaught-reference-in-timeout
setTimeout(function () { nosuchthing(); }, 1);
// probe: uncaught-type-error-in-timeout
setTimeout(function () { throw new TypeError("typed"); }, 1);
// probe: uncaught-in-promise
Promise.reject(new Error("rejected"));
setTimeout(function () { print("later"); }, 300);
// probe: rejection-caught
Promise.reject(new Error("r")).catch(function (e) { print("caught", "" + e); });
// probe: throw-in-then
Promise.resolve(1).then(function () { throw new Error("in then"); }).catch(function (e) { print("caught", e.message); });
// probe: finally-clause
function f() { try { return "try"; } finally { print("finally ran"); } }
print(f());
