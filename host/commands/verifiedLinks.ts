// A device's links as its own signed info states them: `keys rotate` re-links the targets (a link key derives from
// the sender's key, so it changes with it), `send set rule=...@D` warns when the device does not accept D yet.
import type { MqttClient } from "mqtt";
import { deviceTopic } from "../../firmware/contract";
import { parseDeviceMessage } from "../ingest/parseMessage";
import type { MessageVerifier } from "../trust/deviceTrust";

/**
 * `device`'s links ({to, from}: peer ids) from its retained info, taken only when it verifies under the key the
 * verifier holds for it (anyone can publish a retained info); null when no verified info comes within `waitMs`.
 */
export async function verifiedLinksOf(client: MqttClient, root: string, device: string, verifier: MessageVerifier, waitMs: number): Promise<{ to: string[]; from: string[] } | null> {
  const topic = deviceTopic(root, device, "info");
  let onMessage: (t: string, payload: Buffer) => void = () => {};
  const found = new Promise<{ to: string[]; from: string[] } | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), waitMs);
    onMessage = (t, payload) => {
      if (t !== topic) return;
      const m = parseDeviceMessage(root, t, payload, verifier);
      if (m.kind !== "info" || m.trust !== "verified") return;
      clearTimeout(timer);
      resolve(m.info.links ? { to: m.info.links.to.slice(), from: m.info.links.from.slice() } : { to: [], from: [] });
    };
  });
  client.on("message", onMessage);
  try {
    await client.subscribeAsync(topic, { qos: 1 });
    return await found;
  } finally {
    client.removeListener("message", onMessage);
    await client.unsubscribeAsync(topic).catch(() => {});
  }
}
