// The virtual Storage's StorageFile, getFree and compact against Espruino's documented behaviour (jswrap_storage.c,
// jsflash.c): numbered chunks, the first 0xFF ends the data, erased files count as used until compact, full Storage throws.
import { describe, expect, it } from "vitest";
import vm from "node:vm";
import { realmOf } from "../../../sim/board/realm";
import { openStorageFile, STORAGE_BYTES, STORAGEFILE_CHUNK, storageModule, VirtualFlash } from "../../../sim/board/storage";

describe("virtual StorageFile", () => {
  it("appends in place, reads back by length and by line, and spans chunks named name\\x01, name\\x02", () => {
    const flash = new VirtualFlash(null);
    const w = openStorageFile(flash, "log", "w");
    w.write("Hell");
    w.write("o World\n");
    w.write("Hello\n");
    expect(flash.names()).toEqual(["log\x01"]);
    expect(flash.get("log\x01")!.length).toBe(STORAGEFILE_CHUNK);
    const r = openStorageFile(flash, "log", "r");
    expect(r.read(13)).toBe("Hello World\nH");
    expect(r.read(13)).toBe("ello\n");
    expect(r.read(13)).toBeUndefined();
    const l = openStorageFile(flash, "log", "r");
    expect(l.readLine()).toBe("Hello World\n");
    expect(l.readLine()).toBe("Hello\n");
    expect(l.readLine()).toBeUndefined();
    // "a" finds the end again (a reboot) and keeps appending; a write past the chunk continues in the next one
    const a = openStorageFile(flash, "log", "a");
    const big = "x".repeat(STORAGEFILE_CHUNK);
    a.write(big);
    expect(flash.names().sort()).toEqual(["log\x01", "log\x02"]);
    expect(a.getLength()).toBe(18 + STORAGEFILE_CHUNK);
    const all = openStorageFile(flash, "log", "r");
    expect(all.read(100_000)).toBe("Hello World\nHello\n" + big);
    a.erase();
    expect(flash.names()).toEqual([]);
    expect(() => a.write("more")).toThrow("Can't write in this mode");
  });

  it("a reader sees what a writer appends later", () => {
    const flash = new VirtualFlash(null);
    const w = openStorageFile(flash, "f", "a");
    w.write("ab");
    const r = openStorageFile(flash, "f", "r");
    expect(r.read(5)).toBe("ab");
    expect(r.read(5)).toBeUndefined();
    w.write("cd");
    expect(r.read(5)).toBe("cd");
  });

  it("getFree counts erased files until compact; a full Storage refuses a new chunk with an exception", () => {
    const flash = new VirtualFlash(null, 3 * 4096);
    expect(flash.free).toBe(3 * 4096);
    for (let i = 1; i <= 3; i++) openStorageFile(flash, "s" + i, "a").write("data");
    expect(flash.free).toBe(0);
    expect(flash.writes).toBe(3);
    expect(() => openStorageFile(flash, "s4", "a").write("data")).toThrow("Unable to find or create file");
    openStorageFile(flash, "s1", "r").erase();
    // erased but not reclaimed
    expect(flash.free).toBe(0);
    flash.compact();
    expect(flash.free).toBe(4096);
    // and a write that needs the space compacts by itself, as jsflash.c does
    openStorageFile(flash, "s2", "r").erase();
    openStorageFile(flash, "s5", "a").write("data");
    openStorageFile(flash, "s6", "a").write("data");
    expect(flash.names().sort()).toEqual(["s3\x01", "s5\x01", "s6\x01"]);
  });

  it("the Storage module a board gets: open, list of chunk names, getFree of the 896 KB area, bad modes named", () => {
    const flash = new VirtualFlash(null);
    const realm = realmOf(vm.createContext());
    const storage = storageModule(flash, () => realm);
    expect(storage.getFree()).toBe(STORAGE_BYTES);
    storage.open("espdht.sp1", "a").write("abc");
    expect([...storage.list(/^espdht\.sp/)]).toEqual(["espdht.sp1\x01"]);
    expect(storage.getFree()).toBe(STORAGE_BYTES - 4096);
    expect(() => storage.open("x", "rw")).toThrow('Invalid mode "rw"');
  });
});
