// The dashboard page: live state over SSE (batched by the server), drawn at a fixed cadence (never once
// per message), the device list a page at a time (filtered by id and named group), history from the store, commands with
// their replies, and the server's flood and live-connection counts.
import { DashboardState, FloodStats, LiveBatch, LiveStats, RANGES as RANGE_MS } from "../../view/dashboardData";
import { DeviceView, groupsOf, inGroup, RejectionLog } from "../../view/deviceView";
import { csvUrl, fetchDevice, fetchSeries, fetchState, postCommand } from "./api";
import { Chart, ChartData, chartDataFromSeries } from "./charts";
import { DeviceList } from "./deviceList";
import { renderDetails, renderUnattributed } from "./details";
import { byId } from "./dom";

const RENDER_MS = 250;
const HISTORY_POINTS = 1200;
/** non-live ranges are re-fetched (downsampled) this often */
const REFETCH_MS = 60_000;
/** devices per page of the list */
const PAGE_SIZE = 100;
/** a list that changed beyond its page (new devices, a batch that could not carry all) is re-fetched at most this often */
const PAGE_REFRESH_MS = 3_000;

/** the devices of the current page */
const devices = new Map<string, DeviceView>();
let pageOffset = 0;
let pageFilter = "";
/** the named group the list shows ("" = every device) */
let pageGroup = "";
/** the groups offered by the group filter */
const groupsOffered = new Set<string>();
let total = 0;
let listStale = false;
let lastPageFetch = 0;
let pageSerial = 0;
/** the selected device's view, wherever it is in the list */
let selectedView: DeviceView | null = null;
let unattributed: RejectionLog = { total: 0, byReason: {}, recent: [] };
let clockOffset = 0;
let selected: string | null = null;
let range = "15m";
let temp = new ChartData();
let hum = new ChartData();
let detailDirty = true;
let chartsDirty = true;
let unattributedDirty = true;
let lastFetch = 0;
let fetchSerial = 0;

const serverNow = () => Date.now() + clockOffset;
const list = new DeviceList(select);
let tempChart: Chart | null = null;
let humChart: Chart | null = null;

function select(id: string): void {
  if (selected === id) return;
  selected = id;
  selectedView = devices.get(id) ?? null;
  if (!selectedView) void fetchDevice(id).then((d) => { if (selected === d.id) { selectedView = d; detailDirty = true; } }, () => {});
  byId("detail").hidden = false;
  byId<HTMLAnchorElement>("csv").href = csvUrl(id, range);
  byId("cmd-reply").textContent = "No command sent yet.";
  if (!tempChart) {
    tempChart = new Chart(byId("chart-temp"), "Temperature", "°C", "#d9534f");
    humChart = new Chart(byId("chart-hum"), "Humidity", "%RH", "#337ab7");
  }
  detailDirty = true;
  void loadHistory();
}

async function loadHistory(): Promise<void> {
  if (!selected) return;
  const serial = ++fetchSerial;
  lastFetch = Date.now();
  try {
    const s = await fetchSeries(selected, range, HISTORY_POINTS);
    if (serial !== fetchSerial) return; // a newer selection won
    ({ temp, hum } = chartDataFromSeries(s));
    chartsDirty = true;
  } catch (e) {
    byId("cmd-reply").textContent = `history: ${(e as Error).message}`;
  }
}

/** Fetches the current page of the device list. */
async function loadPage(): Promise<void> {
  const serial = ++pageSerial;
  lastPageFetch = Date.now();
  listStale = false;
  try {
    const s = await fetchState(pageOffset, PAGE_SIZE, pageFilter, pageGroup);
    if (serial === pageSerial) applyState(s, false);
  } catch (e) {
    byId("page-info").textContent = (e as Error).message;
  }
}

/** A state snapshot: from a page fetch, or the SSE stream's first event (`fromStream`), which carries the first page. */
function applyState(m: DashboardState, fromStream: boolean): void {
  clockOffset = m.now - Date.now();
  byId("root").textContent = `${m.root} on ${m.broker}`;
  setConnection(m.connected);
  setStoreHealth(m.store ?? null);
  showLimits(m.flood, m.live);
  unattributed = m.unattributed;
  unattributedDirty = true;
  offerGroups(m.groups ?? []);
  if (fromStream && (pageOffset !== 0 || pageFilter !== "" || pageGroup !== "")) {
    void loadPage(); // the stream's snapshot is the first page; this page shows another
  } else {
    devices.clear();
    for (const d of m.devices) devices.set(d.id, d);
    total = m.total;
    showPageInfo();
  }
  if (selected && devices.has(selected)) selectedView = devices.get(selected)!;
  detailDirty = true;
  if (!selected && devices.size > 0) select([...devices.keys()][0]);
  else if (selected && fromStream) void loadHistory(); // after a reconnect: fill what was missed from the store
}

function showPageInfo(): void {
  byId("page-info").textContent = total === 0 ? (pageFilter || pageGroup ? "no device matches" : "") : `${Math.min(pageOffset + 1, total)}–${Math.min(pageOffset + devices.size, total)} of ${total}`;
  byId<HTMLButtonElement>("page-prev").disabled = pageOffset === 0;
  byId<HTMLButtonElement>("page-next").disabled = pageOffset + PAGE_SIZE >= total;
}

function showLimits(f: FloodStats, l: LiveStats): void {
  byId("flood-stats").textContent =
    `devices: ${f.established} proven (limit ${f.maxEstablished}), ${f.newcomers} new (limit ${f.maxNewcomers}); ` +
    `new ids admitted ${f.perSecond}/s: ${f.refused} messages refused, ${f.evicted} unproven devices evicted`;
  byId("live-stats").textContent = `live pages: ${l.clients} of ${l.maxClients}; ${l.cutOff} cut off (not reading), ${l.refused} refused`;
  byId("limits").classList.toggle("flooded", f.refused > 0 || f.evicted > 0);
}

function applyBatch(b: LiveBatch): void {
  clockOffset = b.now - Date.now();
  for (const d of b.devices) {
    offerGroups(groupsOf(d));
    const group = pageGroup || null;
    if (devices.has(d.id)) {
      devices.set(d.id, d);
      if (!inGroup(d, group)) listStale = true; // it left the group shown
    } else if (d.id.includes(pageFilter) && inGroup(d, group)) listStale = true; // a device this page does not show yet
    if (d.id === selected) selectedView = d;
  }
  if (b.moreDevices) listStale = true;
  if (b.flood && b.live) showLimits(b.flood, b.live);
  if (b.unattributed) {
    unattributed = b.unattributed;
    unattributedDirty = true;
  }
  if (b.connected !== undefined) setConnection(b.connected);
  if (selected && b.points[selected]) {
    const windowStart = serverNow() - RANGE_MS[range];
    for (const [t, tc, h] of b.points[selected]) {
      temp.push(t, tc, windowStart);
      hum.push(t, h, windowStart);
    }
    chartsDirty = true;
  }
  if (selected && b.devices.some((d) => d.id === selected)) detailDirty = true;
  if (!selected && devices.size > 0) select([...devices.keys()].sort()[0]);
}

/** A banner while readings do not reach the store (the dashboard keeps them in its journal, or holds them unacknowledged). */
function setStoreHealth(h: DashboardState["store"] | null): void {
  const b = byId("store-banner");
  b.hidden = !h || h.ok;
  if (h && !h.ok) b.textContent = `Store problem${h.since ? ` since ${new Date(h.since).toLocaleString()}` : ""}: ${h.problem}`;
}

function setConnection(connected: boolean): void {
  const c = byId("conn");
  c.textContent = connected ? "broker connected" : "broker disconnected";
  c.className = `badge ${connected ? "badge-online" : "badge-offline"}`;
}

function render(): void {
  const now = serverNow();
  // ages and stale badges move with time: redraw the list every tick, it is cheap and keyed
  // in the server's order (proven devices first): the map keeps the order the page came in
  list.render([...devices.values()], now, selected);
  if (listStale && Date.now() - lastPageFetch > PAGE_REFRESH_MS) void loadPage();
  const d = selectedView;
  if (d && detailDirty) {
    renderDetails(d, now);
    detailDirty = false;
    // offer the device's own interval unless the user is typing one
    const input = byId<HTMLInputElement>("cmd-interval");
    if (d.info && document.activeElement !== input) input.value = String(d.info.interval);
  }
  if (unattributedDirty) {
    renderUnattributed(unattributed);
    unattributedDirty = false;
  }
  if (chartsDirty && tempChart && humChart) {
    const to = now;
    const from = to - RANGE_MS[range];
    tempChart.draw(temp, from, to);
    humChart.draw(hum, from, to);
    chartsDirty = false;
  }
  if (range !== "15m" && Date.now() - lastFetch > REFETCH_MS) void loadHistory();
}

function connectEvents(): void {
  const es = new EventSource("/api/events");
  es.addEventListener("state", (e) => applyState(JSON.parse((e as MessageEvent).data), true));
  es.addEventListener("batch", (e) => applyBatch(JSON.parse((e as MessageEvent).data)));
  es.addEventListener("health", (e) => setStoreHealth(JSON.parse((e as MessageEvent).data)));
  es.onerror = () => setConnection(false);
}

/** Adds groups to the group filter's options (kept sorted; a group once offered stays). */
function offerGroups(groups: string[]): void {
  const fresh = groups.filter((g) => !groupsOffered.has(g));
  if (!fresh.length) return;
  for (const g of fresh) groupsOffered.add(g);
  const select = byId<HTMLSelectElement>("group-filter");
  const options = [...groupsOffered].sort().map((g) => {
    const o = document.createElement("option");
    o.value = g;
    o.textContent = g;
    return o;
  });
  const all = document.createElement("option");
  all.value = "";
  all.textContent = "All groups";
  select.replaceChildren(all, ...options);
  select.value = pageGroup;
}

function wirePager(): void {
  const groupFilter = byId<HTMLSelectElement>("group-filter");
  groupFilter.addEventListener("change", () => {
    pageGroup = groupFilter.value;
    pageOffset = 0;
    void loadPage();
  });
  const filter = byId<HTMLInputElement>("filter");
  let typing: ReturnType<typeof setTimeout> | null = null;
  filter.addEventListener("input", () => {
    if (typing) clearTimeout(typing);
    typing = setTimeout(() => {
      pageFilter = filter.value.trim();
      pageOffset = 0;
      void loadPage();
    }, 250);
  });
  byId("page-prev").addEventListener("click", () => {
    pageOffset = Math.max(0, pageOffset - PAGE_SIZE);
    void loadPage();
  });
  byId("page-next").addEventListener("click", () => {
    if (pageOffset + PAGE_SIZE >= total) return;
    pageOffset += PAGE_SIZE;
    void loadPage();
  });
}

function wireControls(): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>("#ranges button")) {
    b.addEventListener("click", () => {
      range = b.dataset.range || "15m";
      for (const o of document.querySelectorAll("#ranges button")) o.classList.toggle("active", o === b);
      if (selected) byId<HTMLAnchorElement>("csv").href = csvUrl(selected, range);
      void loadHistory();
    });
  }
  const out = byId("cmd-reply");
  const run = async (body: Record<string, unknown>) => {
    if (!selected) return;
    const target = selected;
    out.textContent = `${String(body.op)} → ${target}: waiting for the reply…`;
    try {
      const r = await postCommand(target, body);
      out.textContent = r.ok ? `${target} replied: ${JSON.stringify(r.reply, null, 1)}` : `${target}: ${r.error}`;
    } catch (e) {
      out.textContent = `${target}: ${(e as Error).message}`;
    }
  };
  byId("cmd-read").addEventListener("click", () => void run({ op: "read" }));
  byId("cmd-set").addEventListener("click", () => {
    const v = Number(byId<HTMLInputElement>("cmd-interval").value);
    void run({ op: "set", interval: v });
  });
}

wireControls();
wirePager();
connectEvents();
setInterval(render, RENDER_MS);
