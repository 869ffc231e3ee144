// How long one reading's signature takes on the virtual board: the firmware's own signing code (contract/trust.ts,
// mqtt/utf8.ts, built as the firmware is) run in the board's realm with its emulated crypto.SHA256, doing what
// publishing does per reading. Prints the time; checks the signature with node:crypto.
import { createHmac } from "node:crypto";
import * as esbuild from "esbuild";
import { afterEach, describe, expect, it } from "vitest";
import { esbuildOptions, REPO_ROOT } from "../../../tools/buildFirmware";
import { makeBoard, Harness } from "../boardHarness";

const ROUNDS = 200;
const PROGRAM = `
import { signatureOf, signatureTail } from "./firmware/contract/trust";
import { utf8Encode } from "./firmware/mqtt/utf8";
const sha = require("crypto").SHA256;
const key = new Uint8Array(32);
for (let i = 0; i < 32; i++) key[i] = i;
const topic = "espdht/home/sim-0123456789ab/reading";
const reading = { v: 1, id: "sim-0123456789ab", boot: 3, seq: 1234, up: 123456789, ts: 1796083200123, temperature: 21.5, humidity: 48.2 };
let payload = "";
const t0 = getTime();
for (let i = 0; i < ${ROUNDS}; i++) {
  const body = JSON.stringify(reading).slice(0, -1);
  payload = body + signatureTail(signatureOf(sha, key, utf8Encode(topic), utf8Encode(body)));
}
print("SIGNED " + ((getTime() - t0) * 1000 / ${ROUNDS}).toFixed(3) + " " + payload);
`;

let h: Harness | null = null;
afterEach(() => {
  h?.board.powerOff();
  h = null;
});

describe("signing on the virtual board", () => {
  it("signs a reading in well under a few ms, and the signature verifies with node:crypto", async () => {
    const options = esbuildOptions(true);
    const built = esbuild.buildSync({
      ...options, entryPoints: undefined, outfile: undefined, metafile: false, write: false,
      stdin: { contents: PROGRAM, resolveDir: REPO_ROOT, loader: "ts", sourcefile: "signingTime.ts" },
    } as esbuild.BuildOptions & { write: false });
    h = makeBoard(built.outputFiles[0].text);
    h.board.powerOn();
    const line = await h.waitFor("SIGNED ", 30_000);
    const [, ms, payload] = line.match(/^SIGNED (\S+) (.*)$/)!;
    process.stderr.write(`signing one reading on the virtual board: ${ms} ms (mean of ${ROUNDS})\n`);
    const body = payload.slice(0, -42);
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    const sig = createHmac("sha256", key).update("espdht/home/sim-0123456789ab/reading\n" + body).digest("hex").slice(0, 32);
    expect(payload).toBe(body + ',"sig":"' + sig + '"}');
    expect(JSON.parse(payload)).toMatchObject({ seq: 1234, humidity: 48.2, sig });
    expect(Number(ms)).toBeLessThan(20);
  });
});
