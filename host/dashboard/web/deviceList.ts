// The device list: one row per device with a status badge (and a "duplicate id" badge when the host suspects two boards
// share the id), a verified/unsigned badge, a badge per named group, last values, the thermostat output and last-seen age.
import { deviceHealth, DeviceView, groupsOf, outputCell } from "../../view/deviceView";
import { byId, el, formatAgeLong, formatTime } from "./dom";

interface Row {
  tr: HTMLTableRowElement;
  badge: HTMLSpanElement;
  dup: HTMLSpanElement;
  trust: HTMLSpanElement;
  groups: HTMLTableCellElement;
  /** the groups drawn last ("a,b"), so the badges are rebuilt only when they change */
  groupsShown: string;
  temp: HTMLTableCellElement;
  hum: HTMLTableCellElement;
  output: HTMLTableCellElement;
  seen: HTMLTableCellElement;
}

export class DeviceList {
  private rows = new Map<string, Row>();
  private body = byId("devices").querySelector("tbody")!;

  constructor(private readonly onSelect: (id: string) => void) {}

  render(devices: DeviceView[], now: number, selected: string | null): void {
    byId("no-devices").hidden = devices.length > 0;
    devices.forEach((d, i) => {
      let row = this.rows.get(d.id);
      if (!row) row = this.addRow(d.id);
      if (this.body.children[i] !== row.tr) this.body.insertBefore(row.tr, this.body.children[i] || null);
      const health = deviceHealth(d, now);
      row.badge.textContent = health;
      row.badge.className = `badge status-badge badge-${health}`;
      const dup = d.duplicateId;
      row.dup.hidden = !dup;
      row.dup.title = dup ? `two boards may share this id: ${dup.signs.join(", ")}${dup.report ? ` (the board counted ${dup.report.n} sessions taken over)` : ""}` : "";
      row.trust.textContent = d.trust;
      row.trust.className = `badge trust-badge badge-${d.trust}`;
      row.trust.title = d.keyFingerprint ? `key ${d.keyFingerprint}` : "no key in the keyring";
      const groups = groupsOf(d);
      if (groups.join(",") !== row.groupsShown) {
        row.groupsShown = groups.join(",");
        row.groups.replaceChildren(...groups.map((g) => el("span", g, "badge group-badge")));
      }
      const failed = d.lastReading && "error" in d.lastReading ? d.lastReading.error : null;
      row.temp.textContent = failed ? `(${failed})` : d.lastGood ? d.lastGood.temperature.toFixed(1) : "–";
      row.hum.textContent = failed ? "" : d.lastGood ? d.lastGood.humidity.toFixed(1) : "–";
      const out = d.output;
      row.output.textContent = outputCell(d);
      row.output.className = out ? `output output-${out.on ? "on" : "off"}` : "output";
      row.output.title = out ? `GPIO ${out.pin} ${out.on ? "on" : "off"} since ${out.ts === null ? `${Math.round(out.since / 1000)} s after boot` : formatTime(out.ts)} (${out.why})${d.info?.output ? `, rule ${d.info.output.rule}` : ""}` : "no thermostat output";
      row.seen.textContent = formatAgeLong(d.lastSeen === null ? null : now - d.lastSeen);
      row.tr.classList.toggle("selected", d.id === selected);
    });
    // rows of devices no longer on this page (another page, another filter) go
    while (this.body.children.length > devices.length) {
      const tr = this.body.lastElementChild as HTMLTableRowElement;
      this.rows.delete(tr.dataset.device!);
      tr.remove();
    }
  }

  private addRow(id: string): Row {
    const tr = el("tr");
    tr.dataset.device = id;
    const badge = el("span", "", "badge");
    const statusCell = el("td");
    statusCell.appendChild(badge);
    const dup = el("span", "duplicate id", "badge dup-badge badge-dup");
    dup.hidden = true;
    statusCell.appendChild(dup);
    const trust = el("span", "", "badge");
    const trustCell = el("td");
    trustCell.appendChild(trust);
    const row: Row = { tr, badge, dup, trust, groups: el("td", "", "groups"), groupsShown: "", temp: el("td"), hum: el("td"), output: el("td", "", "output"), seen: el("td") };
    tr.append(el("td", id, "device-id"), statusCell, trustCell, row.temp, row.hum, row.output, row.seen, row.groups);
    tr.addEventListener("click", () => this.onSelect(id));
    this.rows.set(id, row);
    return row;
  }
}
