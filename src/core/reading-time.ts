/**
 * How long reading what the approver is shown takes: the words of the request's summary
 * (payload, SQL, MCP arguments), its reason and its resources, at a silent reading rate.
 * The rate is 238 words per minute, the meta-analytic mean for silent reading of non-fiction
 * by adults in English (Brysbaert, M. (2019). How many words do we read per minute? A review
 * and meta-analysis of reading rate. Journal of Memory and Language, 109, 104047,
 * https://doi.org/10.1016/j.jml.2019.104047). Approvers read slower than that (unfamiliar
 * identifiers, checking each value), so it is a floor for "too fast", never a target.
 *
 * One figure for both sides: the guards enforce it when a hold asks for it
 * (`@min_review("reading")`, approvals/guards.ts) and `audit check` flags a decision made
 * before it (audit-check/review-time.ts), so what one lets through the other passes.
 */
import type { Scope } from './types.js';

export const READING_WORDS_PER_MINUTE = 238;

/** Words in every string, number and member name of a JSON-like value. */
export function wordsIn(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'string') return value.match(/[\p{L}\p{N}][\p{L}\p{N}_'.-]*/gu)?.length ?? 0;
  if (typeof value === 'number' || typeof value === 'boolean') return 1;
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + wordsIn(v), 0);
  if (typeof value === 'object')
    return Object.entries(value as Record<string, unknown>).reduce(
      (n, [k, v]) => n + wordsIn(k) + wordsIn(v),
      0,
    );
  return 0;
}

/** What the request detail shows an approver (approvals show, the console's request item). */
export interface ShownRequest {
  readonly summary: unknown;
  readonly reason: string | undefined;
  readonly scopes: readonly Scope[];
}

/** Words of what the approver is shown: the payload summary, the reason and the resources. */
export function shownWords(r: ShownRequest): number {
  return wordsIn(r.summary) + wordsIn(r.reason) + wordsIn(r.scopes.map((s) => s.resource));
}

/** Seconds to read `words` at READING_WORDS_PER_MINUTE. */
export function readingSeconds(words: number): number {
  return (words * 60) / READING_WORDS_PER_MINUTE;
}
