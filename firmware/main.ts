// Entry on the device (composition root). Must not export: `module` is undefined at Espruino's top level.
import { FIRMWARE_VERSION } from "./contract/version";

console.log("espdht " + FIRMWARE_VERSION);
