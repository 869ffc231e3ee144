// Bounds-checked reading of one packet body for the Node-side parseToBroker (the device's parseFromBroker reads
// inline); every problem throws a string that the decoder turns into a protocol error.
import { throwMalformed } from "./parseFromBroker";
import { utf8Decode } from "./utf8";

export interface Reader {
  u8(): number;
  u16(): number;
  /** a packet id: 1..65535 */
  id(): number;
  /** a length-prefixed UTF-8 string */
  str(): string;
  /** everything left (the PUBLISH payload) */
  rest(): Uint8Array;
  more(): boolean;
}

export function reader(b: Uint8Array): Reader {
  let pos = 0;
  const take = (n: number) => {
    if ((pos += n) > b.length) throwMalformed("truncated");
    return b.subarray(pos - n, pos);
  };
  const u16 = () => {
    const x = take(2);
    return (x[0] << 8) | x[1];
  };
  return {
    u8: () => take(1)[0],
    u16,
    id: () => u16() || throwMalformed("packet id 0"),
    str: () => {
      const s = utf8Decode(take(u16()));
      return s == null ? throwMalformed("bad UTF-8") : s;
    },
    rest: () => take(b.length - pos),
    more: () => pos < b.length,
  };
}
