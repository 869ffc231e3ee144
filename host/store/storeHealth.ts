// Whether readings reach the store, as the dashboard shows it and publishes it for `watch` (plain data: the page
// imports it too).
export interface StoreHealth {
  ok: boolean;
  /** what is wrong, for people: null when ok */
  problem: string | null;
  /** since when the store has been failing (Unix ms) */
  since: number | null;
  journalBytes: number;
  journalLimitBytes: number;
  /** readings are held unacknowledged (the journal is full or cannot be written) */
  holding: boolean;
}

/** A journal size for people: KB below 1 MB. */
export function sizeText(bytes: number): string {
  return bytes < 1048576 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

