// watch's DUP ID column: "-" for a clean device, the signs (with the board's count, the boots and the addresses) for a suspected one.
import { describe, expect, it } from "vitest";
import { duplicateIdCell, renderWatchTable } from "../../../host/terminal/watchTable";
import { FleetState } from "../../../host/ingest/deviceState";
import { parseDeviceMessage } from "../../../host/ingest/parseMessage";

const ROOT = "espdht/w";
const T0 = 1_764_000_000_000;
const bytes = (o: object | string) => new TextEncoder().encode(typeof o === "string" ? o : JSON.stringify(o));
const info = (id: string, ip: string, dupId?: object) => ({ v: 1, id, fw: "1.0.0", model: "dht22", pin: 4, interval: 10, ip, boot: 1, root: ROOT, caps: ["read"], dropped: 0, configError: null, ...(dupId ? { dupId } : {}) });

describe("watch: the DUP ID column", () => {
  it("names each sign", () => {
    expect(duplicateIdCell(null)).toBe("-");
    expect(duplicateIdCell({ signs: ["device report", "status flapping", "interleaved boots", "two IPs"], since: 0, last: 0, report: { n: 5, at: 1 }, ips: ["10.0.0.2", "10.0.0.9"], boots: [3, 7] }))
      .toBe("report n=5, flapping, boots 3/7, ips 10.0.0.2/10.0.0.9");
  });

  it("shows a device flagged from its messages beside a clean one, in red when coloured", () => {
    const fleet = new FleetState();
    const feed = (id: string, kind: string, payload: object | string, at: number) => fleet.apply(parseDeviceMessage(ROOT, `${ROOT}/${id}/${kind}`, bytes(payload), null), at);
    feed("sim-clean", "info", info("sim-clean", "10.0.0.5"), T0);
    feed("sim-twin", "info", info("sim-twin", "10.0.0.2"), T0);
    feed("sim-twin", "info", info("sim-twin", "10.0.0.9"), T0 + 1000);
    feed("sim-twin", "info", info("sim-twin", "10.0.0.2", { n: 3, at: T0 + 1500 }), T0 + 2000);
    const lines = renderWatchTable(fleet.list(), T0 + 3000, false);
    expect(lines[0]).toMatch(/REJECTED\s+DUP ID$/);
    expect(lines[1]).toMatch(/^sim-clean .* -$/);
    expect(lines[2]).toMatch(/^sim-twin .* (ips 10.0.0.9\/10.0.0.2, report n=3|report n=3, ips 10.0.0.9\/10.0.0.2)$/);
    expect(renderWatchTable(fleet.list(), T0 + 3000, true)[2]).toContain("\x1b[31m");
  });
});
