// The dashboard's two ids, each made once and kept in the data folder (0600): its MQTT client id
// `espdht-dash-<random>` (its persistent session, unique to this installation and data folder, docs/architecture.md
// "Conventions"), and a separate random host id `host-<random>` that names it in public, on its health topic: a
// client id seen on a public broker lets anyone connect with it and take the session over.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { makePrivateDir, makePrivateFile } from "../store/privateFiles";
import { createWholeFile } from "../store/wholeFile";

export const CLIENT_ID_FILE = "dashboard-client-id";
export const HOST_ID_FILE = "host-id";

interface IdKind {
  file: string;
  valid: RegExp;
  make: () => string;
  /** what it is, for the error about a broken file */
  what: string;
  /** what deleting it costs */
  lost: string;
}

const CLIENT_ID: IdKind = {
  file: CLIENT_ID_FILE,
  valid: /^espdht-dash-[0-9a-f]{8,32}$/,
  make: () => "espdht-dash-" + crypto.randomBytes(6).toString("hex"),
  what: "a dashboard client id (espdht-dash-<hex>)",
  lost: "the dashboard then starts a new broker session: readings the broker kept for the old one while it was away are not delivered",
};

const HOST_ID: IdKind = {
  file: HOST_ID_FILE,
  valid: /^host-[0-9a-f]{12}$/,
  make: () => "host-" + crypto.randomBytes(6).toString("hex"),
  what: "a host id (host-<12 hex>)",
  lost: "watch then shows this dashboard's health under a new name",
};

/** The id in `<dataDir>/<kind.file>`, made on first use; two processes starting at once agree on one id. */
function keptId(dataDir: string, kind: IdKind): { id: string; created: boolean } {
  const file = path.join(dataDir, kind.file);
  makePrivateDir(dataDir);
  for (let attempt = 0; attempt < 3; attempt++) {
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`cannot read ${file} (${(e as Error).message}): fix its permissions`);
      const id = kind.make();
      // created whole (temp file + link): never seen empty; the loser of a race reads the winner's
      let created: boolean;
      try {
        created = createWholeFile(file, id + "\n");
      } catch (err) {
        throw new Error(`cannot create ${file} (${(err as Error).message}): is the disk full or the folder read-only? Nothing was left behind; start again once it is writable`);
      }
      if (created) return { id, created: true };
      continue;
    }
    const id = text.trim();
    if (kind.valid.test(id)) {
      makePrivateFile(file);
      return { id, created: false };
    }
    const held = id === "" ? "is empty" : `holds ${JSON.stringify(id.slice(0, 40))}`;
    throw new Error(`${file} ${held}, not ${kind.what}: it is broken (perhaps cut short by a crash or a full disk). Delete it and a new one is made (${kind.lost})`);
  }
  throw new Error(`${file} keeps disappearing while it is read: is another program deleting it?`);
}

/** The dashboard's MQTT client id (never published: see the file's header). */
export function dashboardClientId(dataDir: string): string {
  return keptId(dataDir, CLIENT_ID).id;
}

export interface DashboardIds {
  clientId: string;
  /** the public name on the health topic */
  hostId: string;
  /** the client id predates the host id: an older version ran here and may have left its health retained under the client id */
  upgraded: boolean;
}

export function dashboardIds(dataDir: string): DashboardIds {
  const client = keptId(dataDir, CLIENT_ID);
  const host = keptId(dataDir, HOST_ID);
  return { clientId: client.id, hostId: host.id, upgraded: host.created && !client.created };
}

/** watch, send and keys rotate: clean sessions with a throwaway id, never shared with another program. */
export function throwawayClientId(program: "watch" | "send" | "keys"): string {
  return `espdht-${program}-` + crypto.randomBytes(6).toString("hex");
}
