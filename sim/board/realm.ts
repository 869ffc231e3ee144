// Objects handed to the firmware must come from its own vm realm: `x instanceof Array` inside the board is
// false for an array made by Node's realm, and the contract code relies on instanceof.
import vm from "node:vm";

export interface Realm {
  JSON: JSON;
  Array: ArrayConstructor;
  Object: ObjectConstructor;
  Uint8Array: Uint8ArrayConstructor;
  Error: ErrorConstructor;
}

export function realmOf(context: vm.Context): Realm {
  return vm.runInContext("({ JSON: JSON, Array: Array, Object: Object, Uint8Array: Uint8Array, Error: Error })", context) as Realm;
}

/** A plain-data value (object, array, string, number) rebuilt inside the realm. */
export function toRealm<T>(realm: Realm, value: T): T {
  if (value === undefined || value === null || typeof value !== "object") return value;
  return realm.JSON.parse(JSON.stringify(value)) as T;
}

/** Bytes as a Uint8Array of the realm. */
export function realmBytes(realm: Realm, bytes: ArrayLike<number>): Uint8Array {
  const out = new realm.Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i];
  return out;
}
