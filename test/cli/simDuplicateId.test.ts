// `espdht sim --duplicate-id` shows both sides, as a user runs it: the sim's --json status events count the boards'
// kick-loop closes and the boards backing off, and `espdht watch` running beside it flags the device in its DUP ID
// column (and `watch --json` on each of its readings). Real Mosquitto, real processes, Ctrl-C (SIGINT) to stop both.
import { describe, expect, it } from "vitest";
import { startMosquitto } from "../support/brokers";
import { runCli, tempUserEnv } from "../support/runCli";

const until = async (what: string, pred: () => boolean, timeoutMs: number) => {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe("espdht sim --duplicate-id with espdht watch", () => {
  it("the boards report their kick loop in --json status events and watch flags the shared id", async () => {
    const broker = await startMosquitto();
    const root = "espdht/cli-dupid";
    const { env } = tempUserEnv({ broker: broker.url, root, interval: 2 });
    const watch = runCli(["watch"], env);
    const watchJson = runCli(["watch", "--json"], env);
    const sim = runCli(["sim", "--devices", "2", "--duplicate-id", "--json", "--interval", "2"], env);
    try {
      await until("both watches to subscribe", () => watch.stderr().includes("subscribed") && watchJson.stderr().includes("subscribed"), 30_000);
      const events = () => sim.stdout().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      await until("a status event with a board backing off", () => events().some((e) => e.event === "status" && e.kickLoops >= 1 && e.backingOff >= 1), 60_000);
      const id = events().find((e) => e.event === "start").boards[0].id;
      // watch prints a plain table every 5 s when stdout is not a terminal; the last column names the signs
      const flagged = () => watch.stdout().split("\n").some((l) => l.startsWith(id) && !/\s-$/.test(l) && /(flapping|ips |report n=)/.test(l));
      await until("watch to flag the device", flagged, 30_000);
      expect(watch.stdout()).toMatch(/REJECTED\s+DUP ID/);
      // watch --json: each reading of the suspected device carries the flag
      const flaggedReadings = () => watchJson.stdout().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((r) => r.id === id && r.duplicateId);
      await until("a reading line with duplicateId", () => flaggedReadings().length > 0, 30_000);
      expect(flaggedReadings()[0].duplicateId.signs.length).toBeGreaterThan(0);
      process.stderr.write(`watch: ${watch.stdout().split("\n").filter((l) => l.startsWith(id)).pop()}\nsim: ${JSON.stringify(events().filter((e) => e.event === "status").pop())}\n`);
      expect(sim.stderr()).toMatch(/duplicate id: \d+ sessions taken over, \d+ backing off/);
    } finally {
      sim.child.kill("SIGINT");
      watch.child.kill("SIGINT");
      watchJson.child.kill("SIGINT");
      const codes = await Promise.all([sim.done, watch.done, watchJson.done]);
      await broker.stop();
      expect(codes).toEqual([0, 0, 0]);
    }
  }, 150_000);
});
