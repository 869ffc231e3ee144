// Known ways out of a node:vm context, as Espruino code a board can be given (firmware or console input).
// Each probe gets a candidate Function constructor and asks it for `typeof process`: Node's answers
// "object" (and sets globalThis.__escaped in Node's realm); the board's own Function refuses (code from
// strings is off) or answers "undefined". Every probe prints `probe <label>: <outcome>`.

/** The verdict line the probes print for a way that reached Node. */
export const ESCAPED = "object";

/** Labels of the probes that run without the network (sync ones and those after timers, events, watches). */
export const LOCAL_PROBES = [
  "E.constructor.constructor", "E.__proto__.constructor.constructor", "Object.getPrototypeOf(E)", "E.on.call.constructor",
  "E.on.bind(E).constructor", "descriptor of E.on", "E.on returns", "getTime.constructor", "setTimeout.constructor",
  "print.constructor", "require.constructor", "Math.random.constructor", "Date.now.constructor", "process.memory().constructor",
  "process.env.constructor", "require(Storage).constructor", "require(Storage).read.constructor", "Storage.list() result",
  "Storage.readArrayBuffer result", "Storage.readJSON result", "E.toUint8Array result", "E.toArrayBuffer result",
  "E.getErrorFlags result", "crypto.SHA256 result", "ESP32.getState result", "ESP32 global", "I2C1 (not emulated object)",
  "TelnetServer.setOptions", "global this", "bare constructor", "globalThis.__proto__", "__lookupGetter__",
  "require(nope) error", "E.setClock error", "setWatch TypeError", "clearTimeout(undefined) error", "E.toString error",
  "analogRead error", "Storage.write error", "eval", "Function from a function", "setTimeout with a string",
  "stack exhaustion errors", "poisoned Array.prototype", "toJSON caller", "getter caller", "Error.prepareStackTrace frames",
  "timer this", "timer caller", "error getter caller (stack)", "error getter caller (uncaught report)", "poisoned Function.prototype.apply/call", "E.on handler this", "E.on handler argument",
  "setWatch event", "Wifi connect callback", "Wifi connected event", "Wifi.getIP callback argument", "Wifi event this",
];

/** Labels of the probes on sockets (a listening port and a closed one on 127.0.0.1). */
export const SOCKET_PROBES = [
  "net socket", "net socket.on", "net socket.write.call", "socket internals", "net connect callback this", "socket data this",
  "socket error argument", "socket close this",
];

/** The probe program; it prints `probes done N` once every probe reported. */
export function escapeProgram(openPort: number, closedPort: number): string {
  return `
var probes = 0;
var expected = ${LOCAL_PROBES.length + SOCKET_PROBES.length};
function verdictOf(getF) {
  var out;
  try {
    var F = getF();
    out = typeof F !== "function" ? "no function (" + typeof F + ")" : String(F("globalThis.__escaped = (globalThis.__escaped || 0) + 1; return typeof process")());
  } catch (e) { out = "threw " + (e && e.message); }
  return out;
}
function report(label, out) {
  probes++;
  print("probe " + label + ": " + out);
  if (probes === expected) print("probes done " + probes);
}
function reach(label, getF) { report(label, verdictOf(getF)); }
function value(label, v) { reach(label, function () { return v.constructor.constructor; }); }
function many(label, values) {
  var escaped = 0;
  for (var i = 0; i < values.length; i++) {
    var v = values[i];
    if (verdictOf(function () { return v.constructor.constructor; }) === "object") escaped++;
  }
  report(label, escaped ? "object" : "none of " + values.length);
}
function thrown(label, f) {
  try { f(); report(label, "did not throw"); } catch (e) { value(label, e); }
}

reach("E.constructor.constructor", function () { return E.constructor.constructor; });
reach("E.__proto__.constructor.constructor", function () { return E.__proto__.constructor.constructor; });
value("Object.getPrototypeOf(E)", Object.getPrototypeOf(E));
reach("E.on.call.constructor", function () { return E.on.call.constructor; });
reach("E.on.bind(E).constructor", function () { return E.on.bind(E).constructor; });
reach("descriptor of E.on", function () { return Object.getOwnPropertyDescriptor(E, "on").value.constructor; });
value("E.on returns", E.on("nothing", function () {}));
reach("getTime.constructor", function () { return getTime.constructor; });
reach("setTimeout.constructor", function () { return setTimeout.constructor; });
reach("print.constructor", function () { return print.constructor; });
reach("require.constructor", function () { return require.constructor; });
reach("Math.random.constructor", function () { return Math.random.constructor; });
reach("Date.now.constructor", function () { return Date.now.constructor; });
value("process.memory().constructor", process.memory());
value("process.env.constructor", process.env);
value("require(Storage).constructor", require("Storage"));
reach("require(Storage).read.constructor", function () { return require("Storage").read.constructor; });
require("Storage").write("probe.json", "{\\"a\\":[1]}");
value("Storage.list() result", require("Storage").list());
value("Storage.readArrayBuffer result", require("Storage").readArrayBuffer("probe.json"));
value("Storage.readJSON result", require("Storage").readJSON("probe.json"));
value("E.toUint8Array result", E.toUint8Array("ab"));
value("E.toArrayBuffer result", E.toArrayBuffer("ab"));
value("E.getErrorFlags result", E.getErrorFlags());
value("crypto.SHA256 result", require("crypto").SHA256("ab"));
value("ESP32.getState result", require("ESP32").getState());
value("ESP32 global", ESP32);
value("I2C1 (not emulated object)", I2C1);
reach("TelnetServer.setOptions", function () { return require("TelnetServer").setOptions.constructor; });
reach("global this", function () { return this.constructor.constructor; });
reach("bare constructor", function () { return constructor.constructor; });
reach("globalThis.__proto__", function () { return globalThis.__proto__.constructor.constructor; });
reach("__lookupGetter__", function () { return globalThis.__lookupGetter__("__proto__").constructor; });
thrown("require(nope) error", function () { require("nope"); });
thrown("E.setClock error", function () { E.setClock(80); });
thrown("setWatch TypeError", function () { setWatch(function () {}, D5, { edge: "sideways" }); });
thrown("clearTimeout(undefined) error", function () { clearTimeout(undefined); });
thrown("E.toString error", function () { E.toString(true); });
thrown("analogRead error", function () { analogRead(D5); });
thrown("Storage.write error", function () { require("Storage").write("x", { get data() { throw new Error("inner"); } }); });
thrown("eval", function () { eval("1"); });
thrown("Function from a function", function () { (function () {}).constructor("return 1"); });
thrown("setTimeout with a string", function () { setTimeout("print(1)", 1); });

// a host call at the edge of the stack (k frames above it, for many k): the error must still be the board's own
var exhausted = [];
function probeAt(k) {
  var left = k;
  function d() {
    try { d(); } catch (e) {
      if (left-- > 0) throw e;
      try { require("Storage").read("probe.json"); E.toUint8Array([1, [2, 3]]); getTime(); } catch (e2) { exhausted.push(e2); }
    }
  }
  d();
}
for (var k = 0; k < 200; k++) probeAt(k);
many("stack exhaustion errors", exhausted);

// host code must never call the board's (replaceable) prototype methods with its own functions
var leaked = [];
var names = ["map", "filter", "forEach", "slice", "concat", "join", "indexOf", "push", "some", "every", "reduce", "sort", "splice", "find", "includes", "toString"];
var saved = {};
for (var i = 0; i < names.length; i++) {
  (function (n) {
    saved[n] = Array.prototype[n];
    Array.prototype[n] = function () {
      for (var j = 0; j < arguments.length; j++) if (arguments[j] !== null && (typeof arguments[j] === "object" || typeof arguments[j] === "function")) leaked[leaked.length] = arguments[j];
      return saved[n].apply(this, arguments);
    };
  })(names[i]);
}
digitalPulse(D7, 1, [1, 1]);
E.toString([1, 2, [3]]);
E.toUint8Array([1, 2]);
require("Storage").write("probe.bin", [1, 2, 3]);
require("Storage").list(/probe/);
print([1, 2], { a: [3] });
require("crypto").SHA256([1, 2, 3]);
for (var i = 0; i < names.length; i++) Array.prototype[names[i]] = saved[names[i]];
many("poisoned Array.prototype", leaked);

require("Storage").write("probe2.json", { toJSON: function tj() { reach("toJSON caller", function () { var c = tj.caller; return c && c.constructor; }); return 1; } });
var watchOptions = {};
Object.defineProperty(watchOptions, "repeat", { get: function g() { reach("getter caller", function () { var c = g.caller; return c && c.constructor; }); return false; } });
setWatch(function () {}, D13, watchOptions);
clearWatch();

setTimeout(function tf() {
  report("Error.prepareStackTrace frames", (function () {
    try { Error.prepareStackTrace = function (e, frames) { return frames; }; } catch (e) {}
    var st = new Error("x").stack;
    if (typeof st === "string") return "stack is a string";
    var got = [];
    for (var i = 0; i < st.length; i++) { got.push(st[i].getFunction()); got.push(st[i].getThis()); }
    for (var k = 0; k < got.length; k++) if (got[k] && verdictOf(function () { return got[k].constructor.constructor; }) === "object") return "object";
    return "frames without Node functions";
  })());
  value("timer this", this);
  reach("timer caller", function () { var c = tf.caller; return c && c.constructor; });
}, 1);

// an error's getters run when Node formats its stack and when the simulator reports it as uncaught
function probedError(label) {
  var e = new Error("x");
  var done = false;
  Object.defineProperty(e, "message", { get: function gm() {
    if (!done) { done = true; reach(label, function () { var c = gm.caller; return c && c.constructor; }); }
    return "probed";
  } });
  return e;
}
probedError("error getter caller (stack)").stack;
setTimeout(function () { throw probedError("error getter caller (uncaught report)"); }, 3);

var captured = [];
var origApply = Function.prototype.apply, origCall = Function.prototype.call;
var applyTo = origCall.bind(origApply);
Function.prototype.apply = function (t, a) { captured.push(t, a); return applyTo(this, t, a); };
Function.prototype.call = function (t) {
  captured.push(t);
  var rest = [];
  for (var i = 1; i < arguments.length; i++) rest.push(arguments[i]);
  return applyTo(this, t, rest);
};
setTimeout(function () {
  Function.prototype.apply = origApply;
  Function.prototype.call = origCall;
  many("poisoned Function.prototype.apply/call", captured);
}, 2);

E.on("probe", function (arg) { value("E.on handler this", this); value("E.on handler argument", arg); });
E.emit("probe", { x: 1 });

setWatch(function (e) { value("setWatch event", e); }, D5, { repeat: false, edge: "both" });
setTimeout(function () { digitalWrite(D5, 0); }, 5);

var wifi = require("Wifi");
wifi.on("connected", function (details) { value("Wifi connected event", details); value("Wifi event this", this); });
wifi.connect("probe-ap", { password: "probe" }, function (err) {
  value("Wifi connect callback", this);
  wifi.getIP(function (err, ip) {
    value("Wifi.getIP callback argument", ip);
    var s = require("net").connect({ host: "127.0.0.1", port: ${openPort} }, function () {
      value("net connect callback this", this);
      s.write("hello");
    });
    value("net socket", s);
    reach("net socket.on", function () { return s.on.constructor; });
    reach("net socket.write.call", function () { return s.write.call.constructor; });
    reach("socket internals", function () { return s.host.rt.constructor.constructor; });
    var once = false;
    s.on("data", function () { if (!once) { once = true; value("socket data this", this); s.end(); } });
    s.on("close", function () { value("socket close this", this); });
    var t = require("net").connect({ host: "127.0.0.1", port: ${closedPort} });
    t.on("error", function (e) { value("socket error argument", e); });
  });
});
`;
}
