// A virtual board's key: made once, kept 0600 beside its Storage file, a rotated key adopted; the keyring
// gets each key and is rewritten only when something changed.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { newKeyHex, readKeyringFile, updateKeyringFile } from "../../../provisioning/keyring";
import { boardKeyFile, BoardKeyError, loadOrMakeBoardKey, registerBoardKeys } from "../../../sim/fleet/boardKeys";

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), "espdht-boardkeys-"));

describe("board keys", () => {
  it("are made once, kept 0600 next to the board's Storage file and reused", () => {
    const dir = tempDir();
    const file = boardKeyFile(dir, "sim-0123456789ab");
    expect(file).toBe(path.join(dir, "sim", "sim-0123456789ab.key"));
    const key = loadOrMakeBoardKey(file);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadOrMakeBoardKey(file)).toBe(key);
    // without a data folder a key lives for the run only
    expect(loadOrMakeBoardKey(null)).not.toBe(loadOrMakeBoardKey(null));
  });

  it("a key the board already uses (rotated) replaces the kept one", () => {
    const file = boardKeyFile(tempDir(), "sim-aa");
    const first = loadOrMakeBoardKey(file);
    const rotated = newKeyHex();
    expect(loadOrMakeBoardKey(file, rotated)).toBe(rotated);
    expect(loadOrMakeBoardKey(file)).toBe(rotated);
    expect(rotated).not.toBe(first);
  });

  it("a damaged key file is an error naming it and saying what to do", () => {
    const file = boardKeyFile(tempDir(), "sim-bb");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, "not a key\n");
    expect(() => loadOrMakeBoardKey(file)).toThrow(BoardKeyError);
    expect(() => loadOrMakeBoardKey(file)).toThrow(`${file}: a key is 64 hex digits`);
    expect(() => loadOrMakeBoardKey(file)).toThrow(/delete the file to give the board a new key/);
  });

  it("go to the keyring as devices.<id>; an unchanged keyring is not rewritten", () => {
    const ring = path.join(tempDir(), "keys.json");
    const pending = newKeyHex();
    updateKeyringFile(ring, (d) => { d.pending.push({ key: pending, added: "" }); });
    const a = newKeyHex();
    const b = newKeyHex();
    expect(registerBoardKeys(ring, [{ id: "sim-a", key: a }, { id: "sim-b", key: b }])).toBe(2);
    const data = readKeyringFile(ring);
    expect(data.devices["sim-a"].key).toBe(a);
    expect(data.devices["sim-b"].key).toBe(b);
    expect(data.devices["sim-a"].added).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(data.pending.map((e) => e.key)).toEqual([pending]);
    expect(fs.statSync(ring).mode & 0o777).toBe(0o600);

    fs.utimesSync(ring, new Date(0), new Date(0));
    expect(registerBoardKeys(ring, [{ id: "sim-a", key: a }])).toBe(0);
    expect(fs.statSync(ring).mtimeMs).toBe(0);
    const c = newKeyHex();
    expect(registerBoardKeys(ring, [{ id: "sim-a", key: a }, { id: "sim-b", key: c }])).toBe(1);
    expect(readKeyringFile(ring).devices["sim-b"].key).toBe(c);
  });

  it("a broken keyring is an error naming it, and it is left as it was", () => {
    const ring = path.join(tempDir(), "keys.json");
    fs.writeFileSync(ring, "{ nope");
    expect(() => registerBoardKeys(ring, [{ id: "sim-a", key: newKeyHex() }])).toThrow(BoardKeyError);
    expect(() => registerBoardKeys(ring, [{ id: "sim-a", key: newKeyHex() }])).toThrow(`keyring: ${ring}: not valid JSON`);
    expect(fs.readFileSync(ring, "utf8")).toBe("{ nope");
  });
});
