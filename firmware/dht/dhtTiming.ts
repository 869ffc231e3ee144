// DHT22/DHT11 timing (docs/espruino.md section 3). A module without imports: the build inlines these numbers.

/** The sensor needs this long between reads, and after power-up. */
export const MIN_READ_GAP_MS = 2000;
export const POWER_UP_MS = 1000;
/** A frame takes ~5 ms; stop listening after this. */
export const LISTEN_MS = 30;
/** Edge buffer (a ring): a good train has 40-42 edges. */
export const EDGE_CAPACITY = 48;
/** A HIGH longer than this many microseconds is a 1 bit (0 is ~27 us, 1 is ~70 us). */
export const ONE_THRESHOLD_US = 48;
export const FRAME_BITS = 40;
/** Attempts per reading cycle. */
export const READ_ATTEMPTS = 3;
