// The device id from the board's serial (getSerial()), kept apart from the Espruino HAL so it is tested in Node.
import { deviceIdFromMac, isValidDeviceId } from "../contract/topics";

/**
 * An ESP32 serial is its eFuse MAC ("xxxxxxxx-xxxx": hex digits and '-'): the id is `esp32-<last 12 hex>`.
 * A serial with a character no MAC has (a letter past f, or '_') that is already a valid device id is used as
 * is: that is how a virtual board (the simulator's `sim-<12 hex>`) names itself.
 */
export function deviceIdFromSerial(serial: string): string {
  return /[g-zG-Z_]/.test(serial) && isValidDeviceId(serial) ? serial : deviceIdFromMac("esp32", serial);
}
