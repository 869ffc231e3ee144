// Secrets off argv and out of outputs (issue 11 item 6) for init and flash: a broker URL with credentials is
// stored without them, --password-file and ESPDHT_BROKER_PASSWORD work, --password is warned about, the broker
// password prompt does not echo on a terminal, and flash gives a board its own login with device logins on.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readDeviceLogins } from "../../provisioning/deviceLogins";
import { REPO, runCliToEnd as runCli, tempUserEnv as tempHome } from "../support/runCli";
import { until } from "../support/until";

const config = (env: NodeJS.ProcessEnv) => JSON.parse(fs.readFileSync(env.ESPDHT_CONFIG!, "utf8"));

describe("init keeps broker secrets out of the URL, argv and outputs", () => {
  it("takes user and password out of a broker URL, says so, and never prints the password", async () => {
    const { env } = tempHome();
    const r = await runCli(["init", "--yes", "--broker", "mqtts://alice:pa%40ss-Word1@broker.example:8883"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(config(env)).toMatchObject({ broker: "mqtts://broker.example:8883", username: "alice", password: "pa@ss-Word1" });
    expect(r.stderr).toContain("the broker URL carried credentials: stored as username 'alice' and password (masked), the URL without them (mqtts://broker.example:8883)");
    expect(r.stderr).toContain("the password in --broker's URL is visible to other users in the process list");
    expect(r.stdout + r.stderr).not.toContain("pa@ss-Word1");
    expect(r.stdout + r.stderr).not.toContain("pa%40ss-Word1");
    expect(fs.statSync(env.ESPDHT_CONFIG!).mode & 0o777).toBe(0o600);
  });

  it("reads the password from --password-file or ESPDHT_BROKER_PASSWORD; --password works with a warning", async () => {
    const { env, dir } = tempHome();
    const file = path.join(dir, "pw");
    fs.writeFileSync(file, "from-file-1\nignored second line\n");
    expect((await runCli(["init", "-y", "--username", "u", "--password-file", file], env)).code).toBe(0);
    expect(config(env).password).toBe("from-file-1");
    expect((await runCli(["init", "-y"], { ...env, ESPDHT_BROKER_PASSWORD: "from-env-2" })).code).toBe(0);
    expect(config(env).password).toBe("from-env-2");
    const flag = await runCli(["init", "-y", "--password", "from-flag-3"], env);
    expect(flag.code).toBe(0);
    expect(config(env).password).toBe("from-flag-3");
    expect(flag.stderr).toContain("espdht init: warning: --password is visible to other users in the process list ('ps'); use --password-file FILE or ESPDHT_BROKER_PASSWORD");
    const missing = await runCli(["init", "-y", "--password-file", path.join(dir, "nope")], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--password-file: cannot read ${path.join(dir, "nope")} (ENOENT)`);
    fs.writeFileSync(file, "");
    const empty = await runCli(["init", "-y", "--password-file", file], env);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain(`--password-file: ${file} is empty (the password is its first line)`);
  });

  it("on a terminal, the broker password prompt does not echo, and a URL typed with credentials is split", async () => {
    const { env } = tempHome();
    // script(1) gives init a pseudo-terminal; everything it shows lands in the transcript
    const child = spawn("script", ["-qfec", `${process.execPath} ${path.join(REPO, "bin/espdht.js")} init`, "/dev/null"], { cwd: REPO, env: { ...env, TERM: "dumb" }, stdio: ["pipe", "pipe", "pipe"] });
    let shown = "";
    child.stdout.on("data", (d) => { shown += d; });
    child.stderr.on("data", (d) => { shown += d; });
    const answer = async (prompt: string, text: string) => {
      await until(() => shown.includes(prompt), 20_000, `the prompt '${prompt}'`);
      shown = shown.split(prompt).join(`<${prompt}>`);
      child.stdin.write(text + "\r");
    };
    await answer("MQTT broker URL", "mqtt://bob:typed-Secret-7@127.0.0.1:1883");
    await answer("Broker username", "");
    await answer("Broker password", "typed-Secret-8");
    await answer("Topic root", "");
    await answer("Wi-Fi SSID", "");
    await answer("Sensor model", "");
    await answer("DHT data GPIO", "");
    await answer("Seconds between readings", "");
    await answer("Groups", "");
    await answer("Home Assistant discovery", "");
    const code = await new Promise((r) => child.on("close", r));
    expect(code, shown).toBe(0);
    expect(config(env)).toMatchObject({ broker: "mqtt://127.0.0.1:1883", username: "bob", password: "typed-Secret-8" });
    // the username prompt offers what the URL carried; the password typed is not echoed
    expect(shown).toContain("[bob]");
    expect(shown).not.toContain("typed-Secret-8");
  }, 60_000);
});

describe("flash with device logins", () => {
  it("needs the board's --device-id (or MAC), names a bad one, and uploads the board's own login", async () => {
    const { env, dir } = tempHome();
    expect((await runCli(["init", "-y", "--device-logins", "--username", "host", "--password", "host-pw"], env)).code).toBe(0);
    const out = path.join(dir, "upload.js");
    const none = await runCli(["flash", "--dry-run", out], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("device logins are on in your config: give the board's --device-id ID (or its MAC, which esptool prints when it connects)");
    const bad = await runCli(["flash", "--dry-run", out, "--device-id", "not/an id"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--device-id: 'not/an id' is neither a device id (esp32-<12 hex>) nor a MAC (aa:bb:cc:dd:ee:ff)");
    const all = await runCli(["flash", "--dry-run", out, "--device-id", "all"], env);
    expect(all.code).toBe(2);
    expect(all.stderr).toContain("--device-id: 'all' is reserved, not a device id: it is the broadcast to every device (<root>/all/cmd)");
    const r = await runCli(["flash", "--dry-run", out, "--device-id", "A4:CF:12:34:56:78"], env);
    const logins = readDeviceLogins(path.join(dir, "device-logins.json")).devices;
    expect(Object.keys(logins)).toEqual(["esp32-a4cf12345678"]);
    expect(fs.statSync(path.join(dir, "device-logins.json")).mode & 0o777).toBe(0o600);
    expect(r.stdout + r.stderr).not.toContain(logins["esp32-a4cf12345678"].password);
    expect(r.stderr).toContain("the board logs in to the broker as 'esp32-a4cf12345678' with its own password");
    expect(r.code, r.stderr).toBe(0);
    const configLine = fs.readFileSync(out, "latin1").split("\n").find((l) => l.includes('write("espdht.json"'))!;
    const uploaded = JSON.parse(Buffer.from(/atob\("([^"]+)"\)/.exec(configLine)![1], "base64").toString("utf8"));
    expect(uploaded.broker).toMatchObject({ username: "esp32-a4cf12345678", password: logins["esp32-a4cf12345678"].password });
  }, 120_000);
});

describe("sim takes the boards' broker password from a file, never from your Wi-Fi", () => {
  it("names a missing --password-file before starting anything, and lists the login options in --help", async () => {
    const { env, dir } = tempHome({ root: "espdht/simpw", wifi: { ssid: "home", password: "real-wifi-pw-1" } });
    const r = await runCli(["sim", "--password-file", path.join(dir, "nope")], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--password-file: cannot read ${path.join(dir, "nope")} (ENOENT)`);
    const help = await runCli(["sim", "--help"], env);
    for (const flag of ["--username", "--password-file", "--device-logins"]) expect(help.stdout).toContain(flag);
    expect(help.stdout).toContain("your real Wi-Fi password never goes");
  });
});
