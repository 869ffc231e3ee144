// Per-device details: info, trust, health counters and recent rejected messages (forged and replayed ones with
// their reason), all rendered as text.
import type { Info } from "../../../firmware/contract";
import { deviceHealth, DeviceView, RejectionLog } from "../../view/deviceView";
import { byId, clear, el, fillList, formatAgeLong, formatTime } from "./dom";

function show(v: unknown): string {
  if (v === null || v === undefined) return "–";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The device's own counts of commands it did not carry out (present in info when its firmware keeps them). */
/** "sends its readings to B; accepts readings from A", "none" (from the info's peer ids). */
function linksText(i: Info): string {
  const l = i.links;
  if (!l || (!l.to.length && !l.from.length)) return "none";
  return [...(l.to.length ? [`sends its readings to ${l.to.join(", ")}`] : []), ...(l.from.length ? [`accepts readings from ${l.from.join(", ")}`] : [])].join("; ");
}

function commandCounters(i: Info): [string, string][] {
  const rows: [string, string][] = [];
  if (i.refused !== undefined) rows.push(["commands refused (unsigned, forged, expired, replayed)", show(i.refused)]);
  if (i.rateLimited !== undefined) rows.push(["commands rate-limited", show(i.rateLimited)]);
  if (i.retainedCmds !== undefined) rows.push(["retained commands ignored", show(i.retainedCmds)]);
  if (i.skipped !== undefined) rows.push(["oversized messages skipped", show(i.skipped)]);
  if (i.linkIn !== undefined) rows.push(["link messages accepted", show(i.linkIn)]);
  if (i.linkForged !== undefined) rows.push(["link messages forged (ignored)", show(i.linkForged)]);
  if (i.linkOld !== undefined) rows.push(["link messages replayed or old (ignored)", show(i.linkOld)]);
  return rows;
}

export function renderDetails(d: DeviceView, now: number): void {
  byId("dev-title").textContent = d.id;
  const health = deviceHealth(d, now);
  const badge = byId("dev-badge");
  badge.textContent = health;
  badge.className = `badge badge-${health}`;
  const trust = byId("dev-trust");
  trust.textContent = d.trust;
  trust.className = `badge badge-${d.trust}`;
  const i = d.info;
  fillList(byId("info"), i ? [
    ["firmware", show(i.fw)], ["model", show(i.model)], ["pin", show(i.pin)], ["interval", `${i.interval} s`], ["ip", show(i.ip)],
    ["boot (info)", show(i.boot)], ["topic root", show(i.root)], ["groups", i.groups && i.groups.length ? i.groups.join(", ") : "none"], ["links", linksText(i)], ["thermostat rule", i.output ? i.output.rule : "none"], ["capabilities", Array.isArray(i.caps) ? i.caps.map(String).join(", ") : show(i.caps)],
    ["dropped offline", show(i.dropped)], ["config error", show(i.configError)], ...(i.mem ? [["memory free", `${i.mem.free} / ${i.mem.total}`] as [string, string]] : []),
    ...commandCounters(i),
  ] : [["info", "not received yet"]]);
  const errs = d.errors;
  fillList(byId("stats"), [
    ["status", d.online === null ? "unknown" : d.online ? "online" : "offline"],
    ["trust", d.trust === "verified" ? "verified (signed with its key)" : d.keyFingerprint ? "unsigned" : "unsigned (no key in the keyring)"],
    ["key fingerprint", d.keyFingerprint ?? "–"],
    ["last seen", formatAgeLong(d.lastSeen === null ? null : now - d.lastSeen)],
    ["boot", show(d.boot)], ["last seq", show(d.seq)], ["readings", String(d.readings)],
    ["seq gaps", String(d.gaps)], ["duplicates", String(d.duplicates)], ["late", String(d.late)], ["restarts", String(d.restarts)],
    ["read errors", `checksum ${errs.checksum}, timeout ${errs.timeout}, range ${errs.range}`],
  ]);
  renderRejected(d.rejected);
}

function renderRejected(log: RejectionLog): void {
  byId("rejected-total").textContent = `(${log.total} in all)`;
  const body = byId("rejected").querySelector("tbody")!;
  clear(body);
  for (const r of log.recent.slice().reverse()) {
    const tr = el("tr");
    tr.append(el("td", formatTime(r.at)), el("td", r.topic, "topic"), el("td", r.reason, "reason"));
    body.appendChild(tr);
  }
}

export function renderUnattributed(log: RejectionLog): void {
  byId("unattributed").hidden = log.total === 0;
  const list = byId("unattributed-list");
  clear(list);
  for (const r of log.recent.slice(-10).reverse()) list.appendChild(el("li", `${formatTime(r.at)} ${r.topic}: ${r.reason}`));
}
