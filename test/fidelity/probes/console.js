// The REPL: each line of a "(console)" probe is typed at the prompt, and the
// console shows its echo, what it printed and "=" with its value.
// probe: repl-values (console)
1 + 2
1 / 3
"str"
undefined
null
[1, 2, "a"]
({ a: 1, "b c": 2, 3: 4 })
// probe: repl-long-values (console)
var a = []; for (var i = 0; i < 20; i++) a.push(i); a
"x".repeat(70)
new Int16Array(20)
// probe: repl-functions (console)
(function (a) { return a; })
var g = function () { return 1; }; g
// probe: repl-print (console)
print("hello")
stats = function () { print("STATS x=1"); }; stats()
// probe: repl-errors (console)
nosuch
undefined.x
throw new Error("typed")
// probe: repl-error-object (console)
new Error("shown")
// probe: repl-unterminated-string (console)
var play = function (a) { return a; }
play("media
