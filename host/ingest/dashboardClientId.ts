// The dashboard's MQTT client id: `espdht-dash-<random>`, made once and kept in the data folder, so its
// persistent session is unique to this installation and data folder (docs/architecture.md "Conventions").
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export const CLIENT_ID_FILE = "dashboard-client-id";

export function dashboardClientId(dataDir: string): string {
  const file = path.join(dataDir, CLIENT_ID_FILE);
  try {
    const id = fs.readFileSync(file, "utf8").trim();
    if (/^espdht-dash-[0-9a-f]{8,32}$/.test(id)) return id;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const id = "espdht-dash-" + crypto.randomBytes(6).toString("hex");
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, id + "\n");
  return id;
}

/** watch, send and keys rotate: clean sessions with a throwaway id, never shared with another program. */
export function throwawayClientId(program: "watch" | "send" | "keys"): string {
  return `espdht-${program}-` + crypto.randomBytes(6).toString("hex");
}
