// Which device messages the host believes (docs/trust.md "Readings on the host"): a device whose key is in the
// keyring must sign; a signed message from a device without a key may prove a pending key (made by `flash`),
// which is then bound to its id. The keyring file is re-read (at most once a second) whenever a message does
// not verify or comes from a device without a key, so keys added by `sim`, `keys add` or `keys rotate` count
// without a restart.
import { sameSignature, splitSigned } from "../../firmware/contract";
import { keyFingerprint, Keyring, KeyringError } from "../../provisioning/keyring";
import type { Trust } from "../view/deviceView";
import { signatureHex } from "./signature";

export type { Trust };

/** Why a message from a device with a known key was not believed. */
export type TrustRejection = "unsigned" | "bad-signature";

export type TrustDecision =
  /** `body` is the payload without its signature tail (null when it had none) */
  | { ok: true; trust: Trust; fingerprint: string | null; body: Uint8Array | null }
  | { ok: false; reason: TrustRejection };

/** What the message parser asks about a payload on a signed topic (reading, info, reply). */
export interface MessageVerifier {
  verify(deviceId: string, topic: string, payload: Uint8Array): TrustDecision;
}

export interface DeviceTrustOptions {
  now?: () => number;
  /** the keyring file is re-read at most this often (ms) */
  refreshEveryMs?: number;
  /** a keyring file that turned unreadable (the last good keys stay in use) or a bind that could not be saved */
  onError?: (message: string) => void;
  /** a pending key was proven by `deviceId` and bound to it */
  onBind?: (deviceId: string, fingerprint: string) => void;
}

export class DeviceTrust implements MessageVerifier {
  private readonly now: () => number;
  private readonly refreshEveryMs: number;
  private lastRefresh: number;
  private fingerprints = new Map<string, string>();
  private lastError: string | null = null;

  constructor(readonly keyring: Keyring | null, private readonly opts: DeviceTrustOptions = {}) {
    this.now = opts.now ?? Date.now;
    this.refreshEveryMs = opts.refreshEveryMs ?? 1000;
    this.lastRefresh = this.now();
  }

  keyOf(deviceId: string): Buffer | null {
    return this.keyring ? this.keyring.keyOf(deviceId) : null;
  }

  /** The fingerprint of the device's key, or null when it has none here. Safe to show. */
  fingerprintOf(deviceId: string): string | null {
    const key = this.keyOf(deviceId);
    return key ? this.fingerprintOfKey(key) : null;
  }

  /** Devices with a key in the keyring. */
  keyedDevices(): string[] {
    return this.keyring ? this.keyring.deviceIds() : [];
  }

  /** Re-reads the keyring when its file changed and the last look is at least `refreshEveryMs` old. */
  refreshSoon(): boolean {
    if (!this.keyring || this.now() - this.lastRefresh < this.refreshEveryMs) return false;
    return this.refreshNow();
  }

  refreshNow(): boolean {
    if (!this.keyring) return false;
    this.lastRefresh = this.now();
    let failed = false;
    const changed = this.keyring.refresh((e: KeyringError) => {
      failed = true;
      // a file that stays broken is said once, not at every look
      if (e.message !== this.lastError) this.opts.onError?.(`keyring: ${e.message} (keeping the keys read before)`);
      this.lastError = e.message;
    });
    if (!failed) this.lastError = null;
    return changed;
  }

  verify(deviceId: string, topic: string, payload: Uint8Array): TrustDecision {
    const first = this.decide(deviceId, topic, payload);
    if (first.ok && first.trust === "verified") return first;
    // a device without a key, or a message that does not verify: the file may have changed since
    return this.refreshSoon() ? this.decide(deviceId, topic, payload) : first;
  }

  private decide(deviceId: string, topic: string, payload: Uint8Array): TrustDecision {
    const split = splitSigned(payload);
    const key = this.keyOf(deviceId);
    if (key && split && sameSignature(signatureHex(key, topic, split.body), split.sig)) {
      return { ok: true, trust: "verified", fingerprint: this.fingerprintOfKey(key), body: split.body };
    }
    if (split) {
      const proven = this.provePendingKey(deviceId, topic, split.body, split.sig);
      if (proven) return { ok: true, trust: "verified", fingerprint: proven, body: split.body };
    }
    if (key) return { ok: false, reason: split ? "bad-signature" : "unsigned" };
    return { ok: true, trust: "unsigned", fingerprint: null, body: split ? split.body : null };
  }

  /** Binds the pending key that signed this message to `deviceId`; its fingerprint, or null when none did. */
  private provePendingKey(deviceId: string, topic: string, body: Uint8Array, sig: string): string | null {
    if (!this.keyring) return null;
    const pending = this.keyring.pendingKeys();
    for (let i = 0; i < pending.length; i++) {
      if (!sameSignature(signatureHex(pending[i], topic, body), sig)) continue;
      const keyHex = pending[i].toString("hex");
      const fingerprint = this.fingerprintOfKey(pending[i]);
      try {
        this.keyring.bind(deviceId, keyHex);
      } catch (e) {
        this.opts.onError?.(`keyring: could not bind key ${fingerprint} to ${deviceId}: ${(e as Error).message}`);
      }
      this.opts.onBind?.(deviceId, fingerprint);
      return fingerprint;
    }
    return null;
  }

  private fingerprintOfKey(key: Buffer): string {
    const hex = key.toString("hex");
    let fp = this.fingerprints.get(hex);
    if (fp === undefined) {
      fp = keyFingerprint(hex);
      this.fingerprints.set(hex, fp);
    }
    return fp;
  }
}
