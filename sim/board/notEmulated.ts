// Anything the firmware touches that the simulator does not emulate fails loudly, naming the API,
// instead of quietly returning undefined.

/** `espdht sim: <api> is not emulated`: the board's realm builds the same message for members it lacks. */
export const NOT_EMULATED_PREFIX = "espdht sim: ";
export const NOT_EMULATED_SUFFIX = " is not emulated";

export class NotEmulatedError extends Error {
  constructor(api: string, detail?: string) {
    super(`${NOT_EMULATED_PREFIX}${api}${NOT_EMULATED_SUFFIX}${detail ? ` (${detail})` : ""}`);
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

export interface EspruinoObject {
  name: string;
  /** what the board may use; undefined: the object's own enumerable keys */
  members?: readonly string[];
}

const espruinoObjects = new WeakMap<object, EspruinoObject>();

/**
 * Marks an emulated module or object: on the board (sim/board/membrane.ts) it shows only `members` (or its
 * own keys), and reading a member it does not have throws, naming `name.member`. Symbols pass through
 * (engine internals look them up); writes are allowed, as on Espruino objects.
 */
export function strict<T extends object>(name: string, target: T, members?: readonly string[]): T {
  espruinoObjects.set(target, { name, members });
  return target;
}

export function espruinoObjectOf(value: object): EspruinoObject | undefined {
  return espruinoObjects.get(value);
}
