/**
 * Verifying that an interaction request comes from Slack, as Slack documents it
 * (https://api.slack.com/authentication/verifying-requests-from-slack): the base string
 * is `v0:` + X-Slack-Request-Timestamp + `:` + the raw body, its HMAC-SHA256 under the
 * app's signing secret is sent hex-encoded as `X-Slack-Signature: v0=…`. Requests older
 * than five minutes are refused, and so is a request already seen (a replay).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SLACK_WINDOW_SECONDS = 300;

/** `overloaded`: too many signatures inside the window to remember one more (refused, not forgotten). */
export type SignatureProblem = 'missing' | 'stale' | 'forged' | 'replayed' | 'overloaded';

export function slackSignature(secret: string, timestamp: string, rawBody: Buffer | string): string {
  const mac = createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex');
  return `v0=${mac}`;
}

/**
 * Checks signature and window, then remembers the signature until it falls out of the
 * window (a signature covers timestamp and body, so the same one twice is a replay).
 * Memory is bounded: at most `maxRemembered` signatures, each kept five minutes at most.
 */
export class SlackVerifier {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly secret: () => string,
    private readonly now: () => number = () => Date.now(),
    private readonly maxRemembered = 50_000,
  ) {}

  check(
    timestamp: string | undefined,
    signature: string | undefined,
    rawBody: Buffer,
  ): SignatureProblem | undefined {
    if (timestamp === undefined || signature === undefined || !/^\d{1,12}$/.test(timestamp)) return 'missing';
    const nowSeconds = Math.floor(this.now() / 1000);
    if (Math.abs(nowSeconds - Number(timestamp)) > SLACK_WINDOW_SECONDS) return 'stale';
    const want = Buffer.from(slackSignature(this.secret(), timestamp, rawBody));
    const got = Buffer.from(signature);
    if (got.length !== want.length || !timingSafeEqual(got, want)) return 'forged';
    this.prune(nowSeconds);
    if (this.seen.has(signature)) return 'replayed';
    if (this.seen.size >= this.maxRemembered) {
      // Full with in-window entries: refuse rather than forget one that could then be replayed.
      return 'overloaded';
    }
    this.seen.set(signature, Number(timestamp));
    return undefined;
  }

  private prune(nowSeconds: number): void {
    for (const [sig, ts] of this.seen) {
      if (nowSeconds - ts <= SLACK_WINDOW_SECONDS) continue;
      this.seen.delete(sig);
    }
  }
}
