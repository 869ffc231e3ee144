// Anything the firmware touches that the simulator does not emulate fails loudly, naming the API,
// instead of quietly returning undefined.

export class NotEmulatedError extends Error {
  constructor(api: string, detail?: string) {
    super(`espdht sim: ${api} is not emulated${detail ? ` (${detail})` : ""}`);
    this.name = "Error";
  }
}

export function notEmulated(api: string, detail?: string): never {
  throw new NotEmulatedError(api, detail);
}

/** A function that throws NotEmulatedError when called. */
export function notEmulatedFunction(api: string): () => never {
  return () => notEmulated(api);
}

/**
 * Wraps an emulated module or object: reading a property it does not have throws, naming `name.prop`.
 * Symbols pass through (engine internals look them up); writes are allowed, as on Espruino objects.
 */
export function strict<T extends object>(name: string, target: T): T {
  return new Proxy(target, {
    get(t, prop, receiver) {
      if (typeof prop === "symbol" || prop in t) return Reflect.get(t, prop, receiver);
      return notEmulated(`${name}.${prop}`);
    },
  });
}
