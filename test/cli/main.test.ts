import { describe, expect, it } from "vitest";
import { errorText } from "../../cli/main";

describe("the last-resort error line", () => {
  // a store worker rejected with a plain object and the user read "espdht: [object Object]"
  it.each([
    [new Error("listen EADDRINUSE"), "listen EADDRINUSE"],
    [{ message: "store worker failed" }, "store worker failed"],
    [{ code: "SQLITE_BUSY" }, '{"code":"SQLITE_BUSY"}'],
    ["plain text", "plain text"],
    [undefined, "undefined"],
  ])("for %o is %s", (e, text) => {
    expect(errorText(e)).toBe(text);
  });

  it("survives a circular object", () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    expect(errorText(o)).toBe("[object Object]");
  });
});
