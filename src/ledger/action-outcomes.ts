/**
 * A forwarded request is two ledger entries: its intent (`action`, `phase: 'intent'`),
 * durable before the request left, and its outcome (`action.outcome`), appended when
 * the upstream answered. Readers of the record (audit show, audit check, the console)
 * want one action each: this joins them. An intent with no outcome (the process died
 * mid-request, or the request is still in flight) is shown as outcome unknown, never
 * dropped. Display only: `audit verify` checks the raw entries.
 */
import type { LedgerEntry } from './store.js';

/** The outcome reported for an intent whose outcome entry never came. */
export const OUTCOME_UNKNOWN = 'unknown';

/**
 * Entries with each intent's body replaced by intent + outcome (as JSON, like every
 * body) and the outcome entries themselves left out; other entries pass unchanged.
 */
export function joinActionOutcomes(entries: readonly LedgerEntry[]): LedgerEntry[] {
  const outcomes = new Map<string, { seq: number; body: Record<string, unknown> }>();
  for (const e of entries) {
    if (e.kind !== 'action.outcome') continue;
    const body = parse(e.body);
    if (body !== undefined) outcomes.set(String(body.requestId), { seq: e.seq, body });
  }
  const out: LedgerEntry[] = [];
  for (const e of entries) {
    if (e.kind === 'action.outcome') continue;
    if (e.kind !== 'action') {
      out.push(e);
      continue;
    }
    const intent = parse(e.body);
    // A body that is not JSON (a damaged row) passes unchanged: readers report it themselves.
    if (intent?.phase !== 'intent') {
      out.push(e);
      continue;
    }
    const { phase: _phase, ...rest } = intent;
    const done = outcomes.get(String(intent.requestId));
    let joined: Record<string, unknown>;
    if (done === undefined) {
      joined = {
        ...rest,
        decision: intent.outcome,
        outcome: OUTCOME_UNKNOWN,
        error:
          'outcome unknown: forwarded after its intent was recorded, but no outcome was recorded (the gateway stopped mid-request, or it is still in flight)',
      };
    } else {
      const r = done.body;
      const postgres =
        rest.postgres === undefined || r.postgres === undefined
          ? rest.postgres
          : { ...(rest.postgres as object), ...(r.postgres as object) };
      joined = {
        ...rest,
        outcome: r.outcome ?? intent.outcome,
        upstreamStatus: r.upstreamStatus,
        latencyMs: r.latencyMs,
        error: r.error,
        completedAt: r.at,
        outcomeSeq: done.seq,
        ...(postgres === undefined ? {} : { postgres }),
        ...(rest.mcp === undefined || r.mcp === undefined
          ? {}
          : { mcp: { ...(rest.mcp as object), ...(r.mcp as object) } }),
      };
    }
    out.push({ ...e, body: JSON.stringify(joined) });
  }
  return out;
}

function parse(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
