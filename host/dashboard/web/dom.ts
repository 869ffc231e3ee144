// DOM helpers for the page. Device-provided text only ever goes in through textContent, never innerHTML.

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

/** Creates an element whose content is `text` as plain text. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (className) e.className = className;
  return e;
}

export function clear(e: Element): void {
  while (e.firstChild) e.removeChild(e.firstChild);
}

/** Replaces a <dl> with term/value pairs (values as text). */
export function fillList(dl: HTMLElement, pairs: [string, string][]): void {
  clear(dl);
  for (const [k, v] of pairs) {
    dl.appendChild(el("dt", k));
    dl.appendChild(el("dd", v));
  }
}

/** "3 s ago", "5 min ago", "2 h ago", "4 d ago"; "never" (watch's narrow column uses formatAgeShort). */
export function formatAgeLong(ms: number | null): string {
  if (ms === null) return "never";
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129_600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

export function formatTime(ms: number): string {
  return new Date(ms).toLocaleString();
}
