// Numbers of the reading buffer and its spill files. A module without imports: the build inlines these numbers
// (esbuild inlines only an import-free module's constants; each one left in the bundle costs the board JsVars).

/** readings packed per spill (one flash write) */
export const SPILL_BLOCK = 16;
/** Marks a failed reading in the temperature column; the humidity column then holds the error index. */
export const FAILED = -32768;
/** Marks "clock not set" in the ts column. */
export const NO_TS = -2147483648;
export const TWO_32 = 4294967296;
/** spill lines per file: 13 lines of about 295 bytes stay inside one StorageFile chunk (4,064 bytes) */
export const FILE_BLOCKS = 13;
/** free Storage a new spill file needs: its 4 KB page, and 8 KB left for the config, the boot counter and settings */
export const NEEDED = 12288;
