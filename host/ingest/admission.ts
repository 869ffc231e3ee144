// How fast devices never seen before are let in: a token bucket on the caller's clock (ms), so a flood of new
// ids is admitted at a bounded rate while devices already tracked never wait for a token.
export interface AdmissionOptions {
  /** new devices admitted per second, sustained */
  perSecond?: number;
  /** new devices admitted at once after a quiet spell (a fleet's retained messages at start) */
  burst?: number;
}

export const DEFAULT_ADMISSION = { perSecond: 50, burst: 1000 } as const;

export class AdmissionBucket {
  readonly perSecond: number;
  readonly burst: number;
  private tokens: number;
  private last: number | null = null;

  constructor(opts: AdmissionOptions = {}) {
    this.perSecond = opts.perSecond ?? DEFAULT_ADMISSION.perSecond;
    this.burst = opts.burst ?? DEFAULT_ADMISSION.burst;
    if (!(this.perSecond > 0) || !(this.burst >= 1)) throw new Error(`admission: perSecond must be > 0 and burst >= 1 (got ${this.perSecond}, ${this.burst})`);
    this.tokens = this.burst;
  }

  /** Takes one token at `now` (ms); false when the bucket is empty. A clock that steps back adds nothing. */
  take(now: number): boolean {
    if (this.last !== null && now > this.last) this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    if (this.last === null || now > this.last) this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** whole tokens available at the last take() */
  get available(): number {
    return Math.floor(this.tokens);
  }
}
