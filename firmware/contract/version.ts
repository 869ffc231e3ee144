/** Firmware release, reported in `info`. */
export const FIRMWARE_VERSION = "0.1.0";
/** Version of the reading payload (`v` field); bumped only on incompatible change. */
export const PAYLOAD_VERSION = 1;
