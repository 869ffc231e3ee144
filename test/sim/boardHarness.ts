// Builds a single virtual board around a hand-written Espruino program, for tests of the emulation itself.
import { VirtualBoard, BoardWorld } from "../../sim/board/board";
import { VirtualFlash } from "../../sim/board/storage";
import { createEnvironment, DEFAULT_ENVIRONMENT } from "../../sim/dht/environment";
import { VirtualDht, DhtFaults } from "../../sim/dht/virtualDht";
import type { DhtPart } from "../../sim/dht/encode";
import { createPrng } from "../../sim/prng";

export interface Harness {
  board: VirtualBoard;
  dht: VirtualDht;
  flash: VirtualFlash;
  output: string[];
  uncaught: string[];
  /** resolves when the board printed a line containing `text` */
  waitFor(text: string, timeoutMs?: number): Promise<string>;
}

export function makeBoard(code: string | null, opts: { flash?: VirtualFlash; part?: DhtPart; faults?: Partial<DhtFaults>; world?: Partial<BoardWorld>; serial?: string; pin?: number; seed?: number; dropFirstEdgeRate?: number } = {}): Harness {
  const flash = opts.flash ?? new VirtualFlash(null);
  const seed = opts.seed ?? 7;
  const dht = new VirtualDht(opts.part ?? { model: "dht22", dht11Decimals: false }, createEnvironment(DEFAULT_ENVIRONMENT, createPrng(seed), Date.now()), createPrng(seed + 1), { checksumRate: 0, timeoutRate: 0, stuck: false, ...opts.faults }, opts.dropFirstEdgeRate ?? 0.5);
  const board = new VirtualBoard({
    index: 0, serial: opts.serial ?? "sim-0123456789ab", firmware: () => code, flash, dht, dhtPin: opts.pin ?? 4, seed, tlsInsecure: false,
    world: { apUp: true, brokerReachable: true, sntpWorks: true, ...opts.world }, rebootMs: 50,
  });
  const output: string[] = [];
  const uncaught: string[] = [];
  const waiters: { text: string; resolve: (l: string) => void }[] = [];
  board.on("console", (t) => {
    for (const line of t.split("\n").filter((l) => l !== "")) {
      output.push(line);
      for (const w of waiters.slice()) if (line.includes(w.text)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
    }
  });
  board.on("uncaught", (m) => uncaught.push(m));
  return {
    board, dht, flash, output, uncaught,
    waitFor(text, timeoutMs = 5000) {
      const seen = output.find((l) => l.includes(text));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`board never printed '${text}'; it printed:\n${output.join("\n")}`)), timeoutMs);
        waiters.push({ text, resolve: (l) => { clearTimeout(t); resolve(l); } });
      });
    },
  };
}
