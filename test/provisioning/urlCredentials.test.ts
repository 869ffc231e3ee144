// One masking of broker-URL credentials for every command: the whole user:password part goes, whatever it holds.
import { describe, expect, it } from "vitest";
import { maskUrlCredentials, maskUrlsIn } from "../../provisioning/urlCredentials";
import { brokerUrlProblem } from "../../provisioning/brokerUrl";
import { displayUrl, maskUrlsIn as maskUrlsInHost } from "../../host/mqtt/connectBroker";
import { maskSecrets, newUserConfig } from "../../cli/userConfig";

const SECRETS = ["p@ss", "ss@", "p:ss", "p%40ss", "s3cret", "to:k@en"];

describe("maskUrlCredentials", () => {
  it.each([
    ["'@' in the password (user:p@ss@host)", "mqtt://user:p@ss@host:1883", "mqtt://***@host:1883"],
    ["two '@' in the password", "mqtts://user:a@b@c@host", "mqtts://***@host"],
    ["':' in the password", "mqtt://user:p:ss@host:1883", "mqtt://***@host:1883"],
    ["'%40' (an encoded '@') in the password", "mqtt://user:p%40ss@host:1883", "mqtt://***@host:1883"],
    ["an empty password", "mqtt://user:@host:1883", "mqtt://***@host:1883"],
    ["no password (the user name may be a token)", "wss://t0ken@host/mqtt", "wss://***@host/mqtt"],
    ["'/' in the password (no URL parser reads that right)", "mqtt://user:p/ss@host", "mqtt://***@host"],
    ["no credentials", "mqtt://host:1883", "mqtt://host:1883"],
    ["no credentials, a path", "ws://host:9001/mqtt", "ws://host:9001/mqtt"],
    ["no scheme", "user:p@ss@host", "***@host"],
  ])("%s", (_name, url, shown) => {
    expect(maskUrlCredentials(url)).toBe(shown);
  });

  it("is the function behind displayUrl, maskUrlsIn, broker-URL errors and the config display", () => {
    const url = "mqtt://user:p@ss@host:99999";
    expect(displayUrl(url)).toBe("mqtt://***@host:99999");
    expect(maskUrlsInHost).toBe(maskUrlsIn);
    expect(brokerUrlProblem(url, "host")).toBe("'mqtt://***@host:99999': port 99999 is out of range 1..65535");
    expect(maskSecrets({ ...newUserConfig(), broker: "mqtt://user:p@ss@host:1883" }).broker).toBe("mqtt://***@host:1883");
  });
});

describe("maskUrlsIn", () => {
  it("masks every URL in a text, each to its own last '@', and leaves other text alone", () => {
    const text = "bad 'mqtt://me:p@ss@h:1' and wss://t0:k@en@x/y, mail me@example.com (ws://host:80/mqtt)";
    expect(maskUrlsIn(text)).toBe("bad 'mqtt://***@h:1' and wss://***@x/y, mail me@example.com (ws://host:80/mqtt)");
  });

  it.each(SECRETS)("never shows a password holding %s", (secret) => {
    for (const shown of [maskUrlCredentials(`mqtt://u:${secret}@host`), maskUrlsIn(`connect 'mqtt://u:${secret}@host' failed`), brokerUrlProblem(`mqtt://u:${secret}@host:0`, "host") ?? ""]) {
      expect(shown).not.toContain(secret);
      expect(shown).toContain("***@host");
    }
  });
});
