// `espdht sim --link`: the flag's parser and what it writes to the boards' Storage (sim/fleet/fleetLinks.ts).
import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { LINKS_FILE } from "../../../firmware/app/peerLinks";
import { VirtualFlash } from "../../../sim/board/storage";
import { LinkFlagError, parseLinkFlag, provisionLinks } from "../../../sim/fleet/fleetLinks";

const ids = ["sim-a", "sim-b", "sim-c"];
const keys = ids.map(() => randomBytes(32).toString("hex"));
const linksIn = (f: VirtualFlash) => JSON.parse(f.get(LINKS_FILE)!.toString("latin1"));

describe("sim --link", () => {
  it("parses FROM:TO pairs, spaces allowed around commas", () => {
    expect(parseLinkFlag("0:1", 2)).toEqual([{ from: 0, to: 1 }]);
    expect(parseLinkFlag("0:1, 1:0,2:1", 3)).toEqual([{ from: 0, to: 1 }, { from: 1, to: 0 }, { from: 2, to: 1 }]);
  });

  it.each([
    ["", 2, "--link '': each link is FROM:TO"],
    ["0", 2, "--link '0': each link is FROM:TO"],
    ["a:b", 2, "--link 'a:b': each link is FROM:TO"],
    ["-1:0", 2, "--link '-1:0': each link is FROM:TO"],
    ["0:1:2", 3, "--link '0:1:2': each link is FROM:TO"],
    ["0:9", 2, "--link '0:9': board 9 does not exist (this process runs boards 0..1; see --devices)"],
    ["1:1", 2, "--link '1:1': a board cannot be linked to itself"],
    ["0:1,0:1", 2, "--link '0:1': listed twice"],
    ["1:0,2:0,3:0,4:0,5:0", 6, "--link: board 0 would accept more than 4 boards"],
  ] as [string, number, string][])("refuses %j with %i boards", (text, devices, message) => {
    expect(() => parseLinkFlag(text, devices)).toThrow(LinkFlagError);
    expect(() => parseLinkFlag(text, devices)).toThrow(message);
  });

  it("writes the sender's target and the receiver's link key, keeping links already in Storage", () => {
    const flashes = ids.map(() => new VirtualFlash(null));
    flashes[1].writeFile(LINKS_FILE, Buffer.from(JSON.stringify({ to: ["sim-z"], from: { "sim-y": "00".repeat(32) } }), "latin1"), 0, 0);
    provisionLinks(flashes, ids, keys, [{ from: 0, to: 1 }, { from: 2, to: 1 }]);
    expect(linksIn(flashes[0])).toEqual({ to: ["sim-b"], from: {} });
    expect(linksIn(flashes[2])).toEqual({ to: ["sim-b"], from: {} });
    const b = linksIn(flashes[1]);
    expect(b.to).toEqual(["sim-z"]);
    expect(b.from["sim-y"]).toBe("00".repeat(32));
    expect(b.from["sim-a"]).toBe(createHmac("sha256", Buffer.from(keys[0], "hex")).update("link|sim-a|sim-b").digest("hex"));
    expect(b.from["sim-c"]).toBe(createHmac("sha256", Buffer.from(keys[2], "hex")).update("link|sim-c|sim-b").digest("hex"));
    // never a board's own key
    expect(JSON.stringify(b)).not.toContain(keys[0]);
  });

  it("needs both boards' keys, and refuses a board past 4 links one way counting those in Storage", () => {
    const flashes = ids.map(() => new VirtualFlash(null));
    expect(() => provisionLinks(flashes, ids, [keys[0], null, keys[2]], [{ from: 0, to: 1 }])).toThrow("--link 0:1: links are signed, so both boards need a key");
    flashes[0].writeFile(LINKS_FILE, Buffer.from(JSON.stringify({ to: ["x1", "x2", "x3", "x4"], from: {} }), "latin1"), 0, 0);
    expect(() => provisionLinks(flashes, ids, keys, [{ from: 0, to: 1 }])).toThrow("--link: board 0 (sim-a) would have more than 4 links one way, with those kept in its Storage (--fresh clears them)");
  });
});
