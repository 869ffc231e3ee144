// Builds dist/firmware.js once before the suite: the simulator and bundle tests run the real artifact.
import { buildFirmware } from "../tools/buildFirmware";

export default async function setup(): Promise<void> {
  await buildFirmware({ quiet: true });
}
