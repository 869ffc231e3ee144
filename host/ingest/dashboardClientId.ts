// The dashboard's MQTT client id: `espdht-dash-<random>`, made once and kept in the data folder, so its
// persistent session is unique to this installation and data folder (docs/architecture.md "Conventions").
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { FILE_MODE, makePrivateDir, makePrivateFile } from "../store/privateFiles";

export const CLIENT_ID_FILE = "dashboard-client-id";

const VALID_ID = /^espdht-dash-[0-9a-f]{8,32}$/;

/**
 * The id kept in `<dataDir>/dashboard-client-id`, made on first use. The file is created exclusively (0600), so
 * two processes starting at once agree on one id: the loser of the race reads the winner's.
 */
export function dashboardClientId(dataDir: string): string {
  const file = path.join(dataDir, CLIENT_ID_FILE);
  makePrivateDir(dataDir);
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const id = fs.readFileSync(file, "utf8").trim();
      if (VALID_ID.test(id)) {
        makePrivateFile(file);
        return id;
      }
      // empty: another process created it and is writing its id this instant
      if (id === "" && attempt < 49) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
        continue;
      }
      throw new Error(`${file} holds '${id.slice(0, 40)}', not a dashboard client id (espdht-dash-<hex>); delete it and a new one is made`);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    const id = "espdht-dash-" + crypto.randomBytes(6).toString("hex");
    let fd: number;
    try {
      fd = fs.openSync(file, "wx", FILE_MODE);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw e;
    }
    try {
      fs.writeSync(fd, id + "\n");
    } finally {
      fs.closeSync(fd);
    }
    return id;
  }
  throw new Error(`${file} stays empty: is another process stuck writing it?`);
}

/** watch, send and keys rotate: clean sessions with a throwaway id, never shared with another program. */
export function throwawayClientId(program: "watch" | "send" | "keys"): string {
  return `espdht-${program}-` + crypto.randomBytes(6).toString("hex");
}
