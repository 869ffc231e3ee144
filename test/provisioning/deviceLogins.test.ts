import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DeviceLoginsError, ensureDeviceLogins, newDevicePassword, readDeviceLogins } from "../../provisioning/deviceLogins";
import { brokerUrlProblem } from "../../provisioning/brokerUrl";

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), "espdht-logins-"));
  dirs.push(d);
  return d;
}
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

describe("device logins", () => {
  it("makes a random password per device once, keeps it, and saves the file 0600 in a 0700 folder", () => {
    const file = path.join(tmp(), "cfg", "device-logins.json");
    const first = ensureDeviceLogins(file, ["sim-a", "sim-b"]);
    expect(first["sim-a"]).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(first["sim-a"]).not.toBe(first["sim-b"]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
    const again = ensureDeviceLogins(file, ["sim-b", "sim-c"]);
    expect(again["sim-b"]).toBe(first["sim-b"]);
    expect(Object.keys(readDeviceLogins(file).devices).sort()).toEqual(["sim-a", "sim-b", "sim-c"]);
    expect(new Set(Array.from({ length: 100 }, newDevicePassword)).size).toBe(100);
  });

  it.each([
    ["not json", /not valid JSON/],
    ['{"version":2,"devices":{}}', /expected \{"version": 1, "devices"/],
    ['{"version":1,"devices":[]}', /expected \{"version": 1, "devices"/],
    ['{"version":1,"devices":{"bad/id":{"password":"x"}}}', /devices\.bad\/id: not a valid device id/],
    ['{"version":1,"devices":{"sim-1":{"password":""}}}', /devices\.sim-1\.password: must be 1\.\.128 characters without spaces or ':'/],
    ['{"version":1,"devices":{"sim-1":{"password":"a:b"}}}', /devices\.sim-1\.password/],
    ['{"version":1,"devices":{"sim-1":null}}', /devices\.sim-1\.password/],
  ])("names what is wrong in %s", (text, message) => {
    const file = path.join(tmp(), "device-logins.json");
    fs.writeFileSync(file, text);
    expect(() => readDeviceLogins(file)).toThrow(DeviceLoginsError);
    expect(() => readDeviceLogins(file)).toThrow(message);
    expect(() => ensureDeviceLogins(file, ["sim-2"])).toThrow(message);
    expect(fs.readFileSync(file, "utf8")).toBe(text);
  });
});

describe("broker URL errors", () => {
  it("quote the URL with its credentials masked", () => {
    expect(brokerUrlProblem("mqtt://me:s3cret@host:99999", "host")).toBe("'mqtt://***@host:99999': port 99999 is out of range 1..65535");
    expect(brokerUrlProblem("ws://me:s3cret@host:80", "board")).toContain("'ws://***@host:80': a board speaks mqtt:// or mqtts:// only (WebSocket is for host programs");
    expect(brokerUrlProblem("http://me:s3cret@host", "host")).toBe("'http:' is not supported in 'http://***@host' (use mqtt, mqtts, ws or wss)");
  });
});
