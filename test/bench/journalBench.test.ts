// The journal benchmark runs end to end on a small backlog: both sides drain everything, in interleaved rounds.
import { describe, expect, it } from "vitest";
import { formatJournalBench, runJournalBench } from "../../bench/journalBench";

describe("journal benchmark", () => {
  it("drains the same backlog with and without the journal and reports medians and spread", async () => {
    const r = await runJournalBench({ count: 2000, rounds: 2, log: () => {} });
    expect(r.withJournal.rates).toHaveLength(2);
    expect(r.withoutJournal.rates).toHaveLength(2);
    for (const s of [r.withJournal, r.withoutJournal]) expect(s.min).toBeGreaterThan(0);
    expect(Number.isFinite(r.ratio)).toBe(true);
    expect(formatJournalBench(r)).toMatch(/with the journal {3}: median [\d,]+\/s \(spread [\d,]+\.\.[\d,]+\)/);
  }, 120_000);
});
