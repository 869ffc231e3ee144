// `espdht sim --link 0:1`: device-to-device links between the boards of one process, written to their Storage
// before power-on as `espdht link` would leave them (firmware/app/peerLinks.ts, docs/trust.md "Device-to-device
// links"): the sender's file lists the receiver, the receiver's holds the link key HMAC(sender's key, "link|A|B").
import { createHash } from "node:crypto";
import { linkKey, MAX_LINKS, Sha256, toHex } from "../../firmware/contract";
import { LINKS_FILE } from "../../firmware/app/peerLinks";
import type { VirtualFlash } from "../board/storage";

/** A link from board index `from` to board index `to`. */
export interface BoardLink {
  from: number;
  to: number;
}

export class LinkFlagError extends Error {}

/** Parses `FROM:TO[,FROM:TO...]` (board indexes of this process); throws LinkFlagError naming the bad part. */
export function parseLinkFlag(text: string, devices: number): BoardLink[] {
  const links: BoardLink[] = [];
  const parts = text.split(",").map((p) => p.trim());
  for (const part of parts) {
    const m = /^(\d+):(\d+)$/.exec(part);
    if (!m) throw new LinkFlagError(`--link '${part}': each link is FROM:TO, two board indexes, e.g. --link 0:1 (board 0 sends its readings to board 1)`);
    const from = Number(m[1]);
    const to = Number(m[2]);
    for (const i of [from, to]) if (i >= devices) throw new LinkFlagError(`--link '${part}': board ${i} does not exist (this process runs boards 0..${devices - 1}; see --devices)`);
    if (from === to) throw new LinkFlagError(`--link '${part}': a board cannot be linked to itself`);
    if (links.some((l) => l.from === from && l.to === to)) throw new LinkFlagError(`--link '${part}': listed twice`);
    links.push({ from, to });
  }
  for (let i = 0; i < devices; i++) {
    if (links.filter((l) => l.from === i).length > MAX_LINKS) throw new LinkFlagError(`--link: board ${i} would send to more than ${MAX_LINKS} boards (a device has at most ${MAX_LINKS} links each way)`);
    if (links.filter((l) => l.to === i).length > MAX_LINKS) throw new LinkFlagError(`--link: board ${i} would accept more than ${MAX_LINKS} boards (a device has at most ${MAX_LINKS} links each way)`);
  }
  return links;
}

const sha256: Sha256 = (data) => createHash("sha256").update(data).digest();

type LinksFile = { to: string[]; from: Record<string, string> };

function readLinks(flash: VirtualFlash): LinksFile {
  try {
    const f = JSON.parse(flash.get(LINKS_FILE)?.toString("latin1") ?? "null");
    if (f && Array.isArray(f.to) && f.from && typeof f.from === "object") return f;
  } catch {
    // not JSON: the firmware starts without links too
  }
  return { to: [], from: {} };
}

/** The ids whose readings the board accepts (the links to it kept in its Storage). */
export function linkedSources(flash: VirtualFlash): string[] {
  return Object.keys(readLinks(flash).from);
}

/**
 * Adds the links to the boards' Storage, keeping links they already have (made by `espdht link` in an earlier run).
 * Both boards of a link need a key (hex by board index); throws LinkFlagError otherwise.
 */
export function provisionLinks(flashes: VirtualFlash[], ids: string[], keys: (string | null)[], links: BoardLink[]): void {
  const files = flashes.map(readLinks);
  for (const { from, to } of links) {
    const fromKey = keys[from];
    if (!fromKey || !keys[to]) throw new LinkFlagError(`--link ${from}:${to}: links are signed, so both boards need a key (not with --no-keys or a --config without one)`);
    if (!files[from].to.includes(ids[to])) files[from].to.push(ids[to]);
    files[to].from[ids[from]] = toHex(linkKey(sha256, Buffer.from(fromKey, "hex"), ids[from], ids[to]));
  }
  const touched = [...new Set(links.flatMap((l) => [l.from, l.to]))];
  // every board checked before any is written
  for (const i of touched) {
    const f = files[i];
    if (f.to.length > MAX_LINKS || Object.keys(f.from).length > MAX_LINKS) throw new LinkFlagError(`--link: board ${i} (${ids[i]}) would have more than ${MAX_LINKS} links one way, with those kept in its Storage (--fresh clears them)`);
  }
  for (const i of touched) {
    const f = files[i];
    flashes[i].erase(LINKS_FILE);
    flashes[i].writeFile(LINKS_FILE, Buffer.from(JSON.stringify(f), "latin1"), 0, 0);
  }
}
