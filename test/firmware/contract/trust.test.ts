// The device's HMAC-SHA256 and framing checked against node:crypto (the host's verifier uses node:crypto).
import { createHash, createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  fromHex, hmacSha256, keyedClientId, rekeyKeystream, sameSignature, signatureOf, signatureTail, SIG_TAIL_LENGTH,
  signingInput, splitSigned, toHex, xorBytes,
} from "../../../firmware/contract/trust";

const sha256 = (d: Uint8Array) => new Uint8Array(createHash("sha256").update(d).digest());
const bytes = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

describe("HMAC-SHA256", () => {
  it("RFC 4231 test case 2", () => {
    const mac = hmacSha256(sha256, bytes("Jefe"), bytes("what do ya want for nothing?"));
    expect(toHex(mac)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  });
  it("RFC 4231 test case 6 (a key longer than the block is hashed first)", () => {
    const mac = hmacSha256(sha256, new Uint8Array(131).fill(0xaa), bytes("Test Using Larger Than Block-Size Key - Hash Key First"));
    expect(toHex(mac)).toBe("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  });
  it("matches node:crypto on 300 random keys and messages (0..300 bytes)", () => {
    for (let i = 0; i < 300; i++) {
      const key = randomBytes(i % 3 === 0 ? 32 : i % 100);
      const msg = randomBytes(i);
      expect(toHex(hmacSha256(sha256, key, msg))).toBe(createHmac("sha256", key).update(msg).digest("hex"));
    }
  });
});

describe("signed payloads", () => {
  const key = randomBytes(32);
  const topic = bytes("espdht/home/esp32-aabbccddeeff/reading");
  const body = bytes('{"v":1,"id":"esp32-aabbccddeeff","boot":3,"seq":4,"up":1000,"ts":null,"temperature":21.5,"humidity":40');

  it("a signature is the first 128 bits of HMAC(key, topic \\n body), in hex", () => {
    const expected = createHmac("sha256", key).update(Buffer.concat([topic, Buffer.from("\n"), body])).digest("hex").slice(0, 32);
    expect(signatureOf(sha256, key, topic, body)).toBe(expected);
    expect(signingInput(topic, body).length).toBe(topic.length + 1 + body.length);
  });

  it("splitSigned finds the tail, and the JSON parses", () => {
    const sig = signatureOf(sha256, key, topic, body);
    const text = Buffer.concat([body, bytes(signatureTail(sig))]);
    expect(signatureTail(sig).length).toBe(SIG_TAIL_LENGTH);
    const split = splitSigned(new Uint8Array(text))!;
    expect(split.sig).toBe(sig);
    expect(Buffer.from(split.body).equals(Buffer.from(body))).toBe(true);
    expect(JSON.parse(text.toString()).sig).toBe(sig);
  });

  it.each([
    ["no signature", '{"a":1}'],
    ["upper-case hex", '{"a":1,"sig":"' + "A".repeat(32) + '"}'],
    ["short signature", '{"a":1,"sig":"' + "a".repeat(31) + '"}'],
    ["signature not last", '{"sig":"' + "a".repeat(32) + '","a":1}'],
    ["empty body", ',"sig":"' + "a".repeat(32) + '"}'],
  ])("splitSigned: %s -> unsigned", (_what, text) => {
    expect(splitSigned(bytes(text))).toBeNull();
  });

  it("sameSignature", () => {
    expect(sameSignature("ab", "ab")).toBe(true);
    expect(sameSignature("ab", "ac")).toBe(false);
    expect(sameSignature("ab", "abc")).toBe(false);
    expect(sameSignature("abc", "ab")).toBe(false);
    expect(sameSignature("", "")).toBe(true);
    expect(sameSignature("a", "")).toBe(false);
  });
});

describe("hex, client id, rekey", () => {
  it("hex round trip and refusals", () => {
    const b = randomBytes(32);
    expect(fromHex(toHex(b), 32)).toEqual(new Uint8Array(b));
    expect(fromHex(toHex(b).toUpperCase())).toEqual(new Uint8Array(b));
    for (const bad of ["abc", "zz", 12, null, "ab".repeat(31)]) expect(fromHex(bad, 32)).toBeNull();
  });
  it("the keyed client id derives from the key alone and hides it", () => {
    const key = randomBytes(32);
    const id = keyedClientId(sha256, key);
    expect(id).toBe("d-" + createHmac("sha256", key).update("client-id").digest("hex").slice(0, 24));
    expect(keyedClientId(sha256, randomBytes(32))).not.toBe(id);
  });
  it("a rekey keystream hides the new key and the device recovers it", () => {
    const current = randomBytes(32);
    const next = new Uint8Array(randomBytes(32));
    const nonce = randomBytes(16).toString("hex");
    const stream = rekeyKeystream(sha256, current, nonce);
    expect(toHex(stream)).toBe(createHmac("sha256", current).update("rekey|" + nonce).digest("hex"));
    const sent = xorBytes(next, stream);
    expect(toHex(sent)).not.toBe(toHex(next));
    expect(xorBytes(sent, rekeyKeystream(sha256, current, nonce))).toEqual(next);
  });
});
