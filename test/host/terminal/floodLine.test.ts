import { describe, expect, it } from "vitest";
import { FleetState } from "../../../host/ingest/deviceState";
import { parseDeviceMessage } from "../../../host/ingest/parseMessage";
import { floodLine } from "../../../host/terminal/floodLine";

describe("watch's flood line", () => {
  it("says the table sizes and limits while nothing was turned away", () => {
    expect(floodLine(new FleetState().flood())).toBe("devices: 0 proven (limit 5000), 0 new (limit 1000)");
  });

  it("names the flood once messages from unknown ids were refused and newcomers evicted", () => {
    const s = new FleetState({ maxNewcomers: 2, admission: { perSecond: 5, burst: 3 } });
    for (let i = 0; i < 10; i++) s.apply(parseDeviceMessage("r", `r/junk-${i}/status`, Buffer.from("online")), 0);
    expect(floodLine(s.flood())).toBe("devices: 0 proven (limit 5000), 2 new (limit 2)" +
      "; FLOOD of unknown ids: 7 messages refused (new ids admitted at 5/s), 1 unproven devices evicted");
  });
});
