// `espdht dashboard` as users run it: the real CLI, a real Mosquitto, the default port taken.
import fs from "node:fs";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMosquitto, RunningBroker } from "../support/brokers";
import { exposureWarning } from "../../cli/commands/dashboard";
import { runCli, tempUserEnv } from "../support/runCli";
import { until } from "../support/until";

const ROOT = "espdht/dashcli";
let broker: RunningBroker;
let env: NodeJS.ProcessEnv;
let dir: string;
let blocker: net.Server | null = null;

beforeAll(async () => {
  broker = await startMosquitto();
  ({ env, dir } = tempUserEnv({ broker: broker.url, root: ROOT }));
  // hold 8080 so the default port is taken (if someone else holds it, the same path is exercised)
  blocker = await new Promise<net.Server | null>((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(null));
    s.listen(8080, "127.0.0.1", () => resolve(s));
  });
});
afterAll(async () => {
  blocker?.close();
  await broker?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("espdht dashboard", () => {
  it("takes a free port when 8080 is taken, prints the URL, serves the page, and stops on Ctrl-C", async () => {
    const run = runCli(["dashboard"], env);
    await until(() => /http:\/\/127\.0\.0\.1:\d+\//.test(run.stdout()), 30_000, "the URL");
    const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(run.stdout())![0];
    expect(url).not.toBe("http://127.0.0.1:8080/");
    expect(run.stderr()).toContain("port 8080 is taken, using a free one");
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>espdht dashboard</title>");
    const state = (await (await fetch(new URL("/api/state", url))).json()) as { root: string; connected: boolean };
    expect(state).toMatchObject({ root: ROOT, connected: true });
    expect(fs.readFileSync(`${env.ESPDHT_DATA}/dashboard-client-id`, "utf8")).toMatch(/^espdht-dash-[0-9a-f]{12}\n$/);
    run.child.kill("SIGINT");
    expect(await run.done).toBe(0);
  });

  // the Host allowlist (DNS-rebinding guard) named only 127.0.0.1, localhost and [::1]: every request got a 403
  it("serves the page on another loopback address the user chose (--host 127.0.0.2)", async () => {
    const run = runCli(["dashboard", "--host", "127.0.0.2", "--port", "0"], env);
    try {
      await until(() => /http:\/\/127\.0\.0\.2:\d+\//.test(run.stdout()), 30_000, "the URL");
      const url = /http:\/\/127\.0\.0\.2:\d+\//.exec(run.stdout())![0];
      expect((await fetch(url)).status).toBe(200);
      expect((await fetch(new URL("/api/state", url))).status).toBe(200);
    } finally {
      run.child.kill("SIGINT");
    }
    expect(await run.done).toBe(0);
  });

  it("fails clearly when a port the user chose is taken", async () => {
    const taken = (blocker?.address() as net.AddressInfo | undefined)?.port ?? 8080;
    const run = runCli(["dashboard", "--port", String(taken)], env);
    expect(await run.done).toBe(1);
    expect(run.stderr()).toContain(`cannot listen on 127.0.0.1:${taken}`);
  });

  it("fails clearly when the broker is unreachable", async () => {
    const run = runCli(["dashboard", "--port", "0", "--broker", "mqtt://127.0.0.1:1"], env);
    expect(await run.done).toBe(1);
    expect(run.stderr()).toContain("cannot connect to mqtt://127.0.0.1:1");
  });

  // commands from the page need no login: listening beyond loopback deserves a word
  it.each([["0.0.0.0", true], ["192.168.1.20", true], ["::", true], ["127.0.0.1", false], ["localhost", false], ["::1", false]])(
    "--host %s warns: %s", (host, warns) => {
      const warning = exposureWarning(host);
      if (warns) expect(warning).toContain(`listening on ${host}: anyone who can reach this address`);
      else expect(warning).toBeNull();
    });

  it("a broken keyring is a clear error naming the file (exit 2), before anything starts", async () => {
    const bad = `${dir}/broken-keys.json`;
    fs.writeFileSync(bad, "[]");
    const run = runCli(["dashboard", "--port", "0", "--keyring", bad], env);
    expect(await run.done).toBe(2);
    expect(run.stderr()).toContain(`keyring: ${bad}: expected {"version": 1`);
  });

  it("rejects a bad --port with exit 2", async () => {
    const run = runCli(["dashboard", "--port", "99999"], env);
    expect(await run.done).toBe(2);
    expect(run.stderr()).toContain("--port: 99999 is out of range 0..65535");
  });
});
