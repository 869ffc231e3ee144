// Which devices a device sends its readings to, read from its own signed info (for `keys rotate`, which must re-link
// them: a link key is derived from the sender's key, so it changes with it).
import type { MqttClient } from "mqtt";
import { deviceTopic } from "../../firmware/contract";
import { parseDeviceMessage } from "../ingest/parseMessage";
import type { MessageVerifier } from "../trust/deviceTrust";

/**
 * The devices `device` sends its readings to (info.links.to), from its retained info, taken only when it verifies
 * under the key the verifier holds for it (anyone can publish a retained info); [] when there is none within `waitMs`.
 */
export async function linkTargetsOf(client: MqttClient, root: string, device: string, verifier: MessageVerifier, waitMs: number): Promise<string[]> {
  const topic = deviceTopic(root, device, "info");
  let onMessage: (t: string, payload: Buffer) => void = () => {};
  const found = new Promise<string[]>((resolve) => {
    const timer = setTimeout(() => resolve([]), waitMs);
    onMessage = (t, payload) => {
      if (t !== topic) return;
      const m = parseDeviceMessage(root, t, payload, verifier);
      if (m.kind !== "info" || m.trust !== "verified") return;
      clearTimeout(timer);
      resolve(m.info.links ? m.info.links.to.slice() : []);
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
