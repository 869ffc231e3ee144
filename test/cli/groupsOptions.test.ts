// `--groups` of init and flash (issue 12 item 1): init keeps the groups in the user config, flash writes them into
// the board's config (its own --groups wins), and bad lists are refused naming the group and what is wrong.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveDeviceConfig } from "../../firmware/contract";
import { runCliToEnd as runCli, tempUserEnv as tempHome } from "../support/runCli";

/** The device config inside a --dry-run upload. */
function uploadedConfig(uploadFile: string): Record<string, unknown> {
  const configLine = fs.readFileSync(uploadFile, "latin1").split("\n").find((l) => l.includes('write("espdht.json"'))!;
  return JSON.parse(Buffer.from(/atob\("([^"]+)"\)/.exec(configLine)![1], "base64").toString("utf8"));
}

describe("--groups for init and flash", () => {
  it("init keeps the groups; flash writes them to the board, or its own --groups; none by default", async () => {
    const { dir, env } = tempHome();
    const plain = path.join(dir, "plain.js");
    await runCli(["init", "-y"], env);
    expect((await runCli(["flash", "--dry-run", plain], env)).code).toBe(0);
    expect(uploadedConfig(plain)).not.toHaveProperty("groups");

    const r = await runCli(["init", "-y", "--groups", "kitchen, floor1"], env);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(fs.readFileSync(env.ESPDHT_CONFIG!, "utf8")).groups).toEqual(["kitchen", "floor1"]);
    const fromConfig = path.join(dir, "a.js");
    expect((await runCli(["flash", "--dry-run", fromConfig], env)).code).toBe(0);
    expect(uploadedConfig(fromConfig).groups).toEqual(["kitchen", "floor1"]);
    // what the firmware makes of it
    expect(resolveDeviceConfig(uploadedConfig(fromConfig))).toMatchObject({ ok: true, config: { groups: ["kitchen", "floor1"] } });

    const own = path.join(dir, "b.js");
    expect((await runCli(["flash", "--dry-run", own, "--groups", "garage"], env)).code).toBe(0);
    expect(uploadedConfig(own).groups).toEqual(["garage"]);
    const none = path.join(dir, "c.js");
    expect((await runCli(["flash", "--dry-run", none, "--groups", ""], env)).code).toBe(0);
    expect(uploadedConfig(none)).not.toHaveProperty("groups");
  }, 120_000);

  it.each([
    ["a,b,c,d,e", "--groups: at most 4 groups per device (got 5: a, b, c, d, e)"],
    ["kit/chen", `--groups: group name 'kit/chen' has "/": only letters, digits, '-' and '_' (it is one topic level; no '+', '#', '/')`],
    ["floor+1", `group name 'floor+1' has "+"`],
    ["a,a", "--groups: group 'a' is listed twice"],
    ["all", "'all' is not a group name"],
    ["a,,b", "--groups: the group name is empty"],
  ])("init and flash refuse --groups %j: %s", async (list, message) => {
    const { dir, env } = tempHome();
    const init = await runCli(["init", "-y", "--groups", list], env);
    expect(init.code).toBe(2);
    expect(init.stderr).toContain(message);
    expect(fs.existsSync(env.ESPDHT_CONFIG!)).toBe(false);
    const flash = await runCli(["flash", "--dry-run", path.join(dir, "u.js"), "--groups", list], env);
    expect(flash.code).toBe(2);
    expect(flash.stderr).toContain(message);
  }, 60_000);

  it("a user config with a bad groups list is refused naming the field", async () => {
    const { dir, env } = tempHome({ broker: "mqtt://127.0.0.1:1883", root: "espdht/g", groups: ["ok", "not ok"] });
    const r = await runCli(["flash", "--dry-run", path.join(dir, "u.js")], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`groups: group name 'not ok' has " "`);
  }, 60_000);
});
