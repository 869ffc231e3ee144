// A membrane between Node and a board's vm context: node:vm alone is no sandbox, since any Node object the
// board can touch leads to Node's Function through `.constructor` (then `process`, files, shell). So the
// board only ever holds values made by its own realm: host functions become realm functions that call the
// host through a closure the board cannot reach, Espruino objects become realm objects (behind a realm Proxy
// that throws on members the simulator does not emulate), data is copied, host errors are rethrown as realm
// errors. Only the members an object declares cross (a capability list, not a property forwarder: a
// forwarding Proxy would still hand the board Node's Function, just wrapped).
import { espruinoObjectOf } from "./notEmulated";

type HostFunction = (...args: unknown[]) => unknown;

/** Functions made inside the board's context by REALM_KIT (their closures hold what the board must not see). */
export interface RealmKit {
  /** a realm function calling `call` with its arguments; a non-realm exception or result becomes a realm Error */
  wrap(call: (args: ArrayLike<unknown>) => unknown): HostFunction;
  /** a realm Proxy over `target` where reading a member it lacks throws `espdht sim: <name>.<member> is not emulated` */
  face(name: string, target: object): object;
  /** calls a realm function with `this` and arguments (already realm values) */
  invoke(fn: unknown, self: unknown, args: unknown[]): unknown;
  error(name: string, message: string): Error;
  list(items: unknown[]): unknown[];
  object(keys: string[], values: unknown[]): object;
  define(target: object, key: string, value: unknown): void;
  typed(kind: string, length: number): ArrayLike<number> & { [i: number]: number };
  buffer(length: number): ArrayBuffer;
  objectPrototype: object;
}

/**
 * Runs first in every board context (before anything deletes Proxy and Reflect, which Espruino lacks), in
 * strict mode so that no realm function exposes a caller.
 */
export const REALM_KIT = `(function (notEmulatedPrefix, notEmulatedSuffix) {
  "use strict";
  var P = Proxy, apply = Reflect.apply, get = Reflect.get, getProto = Object.getPrototypeOf, define = Object.defineProperty;
  var OP = Object.prototype;
  var errors = { Error: Error, TypeError: TypeError, RangeError: RangeError, SyntaxError: SyntaxError, ReferenceError: ReferenceError, EvalError: EvalError, URIError: URIError };
  var typedKinds = { Uint8Array: Uint8Array, Int8Array: Int8Array, Uint8ClampedArray: Uint8ClampedArray, Uint16Array: Uint16Array, Int16Array: Int16Array, Uint32Array: Uint32Array, Int32Array: Int32Array, Float32Array: Float32Array, Float64Array: Float64Array };
  function isRealm(v) {
    for (var o = v; o !== null; o = getProto(o)) if (o === OP) return true;
    return false;
  }
  function isObject(v) { return (typeof v === "object" && v !== null) || typeof v === "function"; }
  function error(name, message) {
    var C = errors[name];
    var e = new (C || Error)(String(message));
    if (!C) define(e, "name", { __proto__: null, value: String(name), writable: true, configurable: true });
    return e;
  }
  function escaped() { return error("Error", "espdht sim: internal error: a Node value almost reached the board (dropped)"); }
  function guard(e) { return isObject(e) && !isRealm(e) ? escaped() : e; }
  function data(value) { return { __proto__: null, value: value, writable: true, enumerable: true, configurable: true }; }
  return {
    // no name or length of its own: redefining them costs ~20 KB a board, and nothing on Espruino reads them
    wrap: function (call) {
      return function () {
        var r;
        try { r = call(arguments); } catch (e) { throw guard(e); }
        if (isObject(r) && !isRealm(r)) throw escaped();
        return r;
      };
    },
    face: function (name, target) {
      return new P(target, {
        __proto__: null,
        get: function (t, p, r) {
          if (typeof p === "symbol" || p in t) return get(t, p, r);
          throw error("Error", notEmulatedPrefix + name + "." + p + notEmulatedSuffix);
        },
      });
    },
    invoke: function (fn, self, args) { return apply(fn, self, args); },
    error: error,
    list: function (items) {
      var a = [];
      for (var i = 0; i < items.length; i++) a[i] = items[i];
      return a;
    },
    object: function (keys, values) {
      var o = {};
      // assignment is fast; a setter the board put on Object.prototype only ever sees realm values
      for (var i = 0; i < keys.length; i++) {
        if (keys[i] === "__proto__") define(o, keys[i], data(values[i]));
        else o[keys[i]] = values[i];
      }
      return o;
    },
    define: function (target, key, value) { define(target, key, data(value)); },
    typed: function (kind, length) { return new typedKinds[kind](length); },
    buffer: function (length) { return new ArrayBuffer(length); },
    objectPrototype: OP,
  };
})`;

const TYPED_KINDS = ["Uint8Array", "Int8Array", "Uint8ClampedArray", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array", "Float32Array", "Float64Array"];

/** Depth of plain data copied into the board (Wi-Fi details, watch events, socket errors are 1-2 deep). */
const MAX_DEPTH = 16;

export class Membrane {
  /** host object or function -> the realm value standing for it */
  private readonly crossed = new WeakMap<object, unknown>();
  /** realm values made here (faces are realm Proxies: recognised without walking their prototypes) */
  private readonly made = new WeakSet<object>();

  constructor(private readonly kit: RealmKit) {}

  /** Any host value as a value of the board's realm (primitives and realm values unchanged). */
  toRealm(value: unknown, depth = 0): unknown {
    if (value === null || (typeof value !== "object" && typeof value !== "function")) return value;
    const known = this.crossed.get(value);
    if (known !== undefined) return known;
    if (this.isRealm(value)) return value;
    if (depth > MAX_DEPTH) throw new Error("espdht sim: internal: data handed to the board is nested too deep");
    if (typeof value === "function") {
      const w = this.wrap(value as HostFunction, undefined);
      this.crossed.set(value, w);
      return w;
    }
    const espruino = espruinoObjectOf(value);
    if (espruino) return this.face(value, espruino.name, espruino.members);
    if (Array.isArray(value)) return this.kit.list(value.map((v) => this.toRealm(v, depth + 1)));
    if (ArrayBuffer.isView(value)) return this.typedCopy(value);
    if (value instanceof ArrayBuffer) {
      const out = this.kit.buffer(value.byteLength);
      new Uint8Array(out).set(new Uint8Array(value));
      return out;
    }
    if (value instanceof Error) return this.kit.error(typeof value.name === "string" ? value.name : "Error", String(value.message));
    const proto = Object.getPrototypeOf(value);
    if (proto === Object.prototype || proto === null) {
      const keys = Object.keys(value);
      return this.kit.object(keys, keys.map((k) => this.toRealm((value as Record<string, unknown>)[k], depth + 1)));
    }
    throw new Error(`espdht sim: internal: a ${proto?.constructor?.name ?? "host object"} cannot be handed to the board`);
  }

  /** What host code throws, as something the board may catch. */
  errorToRealm(e: unknown): unknown {
    try {
      return this.toRealm(e);
    } catch (inner) {
      return this.kit.error("Error", inner instanceof Error ? inner.message : "espdht sim: internal error");
    }
  }

  /** Calls a realm function (firmware callback) from the host, converting `this` and the arguments. */
  call(fn: unknown, self: unknown, args: unknown[]): unknown {
    const realmArgs: unknown[] = [];
    for (let i = 0; i < args.length; i++) realmArgs.push(this.toRealm(args[i]));
    return this.kit.invoke(fn, this.toRealm(self), realmArgs);
  }

  /** A realm function that runs `fn` (with `this` = `self`, never the board's `this`). */
  private wrap(fn: HostFunction, self: unknown): HostFunction {
    const w = this.kit.wrap((args) => {
      try {
        return this.toRealm(Reflect.apply(fn, self, args));
      } catch (e) {
        throw this.errorToRealm(e);
      }
    });
    this.made.add(w);
    return w;
  }

  /** An Espruino object as the board sees it: its declared members only, functions bound to the host object. */
  private face(host: object, name: string, members: readonly string[] | undefined): object {
    const target = this.kit.object([], []);
    const face = this.kit.face(name, target);
    this.made.add(face);
    this.crossed.set(host, face);
    const keys = members ?? Object.keys(host);
    for (const key of keys) {
      const v = (host as Record<string, unknown>)[key];
      this.kit.define(target, key, typeof v === "function" ? this.wrap(v as HostFunction, host) : this.toRealm(v));
    }
    return face;
  }

  private typedCopy(view: ArrayBufferView): unknown {
    // Buffer reports itself as a Uint8Array here, which is what the board gets
    const kind = Object.prototype.toString.call(view).slice(8, -1);
    if (TYPED_KINDS.indexOf(kind) < 0) throw new Error(`espdht sim: internal: a ${kind} cannot be handed to the board`);
    const src = view as unknown as ArrayLike<number>;
    const out = this.kit.typed(kind, src.length);
    for (let i = 0; i < src.length; i++) out[i] = src[i];
    return out;
  }

  /** Whether `o` belongs to the board's realm: made here, or its prototype chain reaches the realm's Object.prototype. */
  private isRealm(o: object): boolean {
    for (let p: object | null = o; p !== null; p = Object.getPrototypeOf(p)) {
      if (p === this.kit.objectPrototype || this.made.has(p)) return true;
    }
    return false;
  }
}
