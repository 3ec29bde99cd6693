/**
 * The request path every front takes, in one place (docs/ARCHITECTURE.md, "Layers"):
 *
 *   AccessRequest → gate (grant reuse → policy → hold → wait) → one outcome (outcome.ts)
 *     denied / lapsed          → the refusal row is recorded; the front renders the refusal
 *     allowed / approved       → the front's last checks (a scoped session), then the intent
 *                                row, durably (or refused: nothing unrecorded is forwarded)
 *                                → the front forwards → `finish` records the outcome row
 *
 * A front is an engine around it: its codec turns wire data into the AccessRequest and the
 * fingerprint, it builds the row's front-specific detail (`row`), forwards, and renders
 * refusals in its own protocol. It never maps a gate result to an outcome, and never writes
 * a row itself (no front imports the store: the lint rule in .dependency-cruiser.cjs).
 */
import type { Gate, GateResult } from '../approvals/gate.js';
import type { AccessRequest, ActionOutcome, ActionRecord, ActionResult } from '../core/types.js';
import { outcomeOf } from './outcome.js';
import { type Recorder, RecordUnavailable } from './recorder.js';

export type Allowed = Extract<GateResult, { kind: 'allow' }>;
export type Denied = Extract<GateResult, { kind: 'deny' }>;

/** What the path knows when a row is built: the front adds its detail around it. */
export interface RowFacts {
  /**
   * Which row: the intent of a request about to be forwarded, or a refusal — at the gate
   * (`denied`: denied or lapsed), by the front's last checks (`checks`), or because the
   * intent could not be made durable (`unrecorded`), or before the gate (`early`).
   */
  readonly stage: 'intent' | 'denied' | 'checks' | 'unrecorded' | 'early';
  readonly gate: GateResult | undefined;
  readonly outcome: ActionOutcome;
  readonly error: string | undefined;
}

/** What a front reports once the upstream answered (or failed). */
export type Finish = Omit<
  ActionResult,
  'requestId' | 'at' | 'agent' | 'grantId' | 'approvalId' | 'latencyMs'
> &
  Partial<Pick<ActionResult, 'latencyMs'>>;

export type Entry =
  /** Refused at the gate (denied, lapsed): its row is recorded. */
  | { readonly kind: 'refused'; readonly gate: Denied; readonly outcome: ActionOutcome }
  /** Allowed, but the intent could not be made durable: not forwarded; its row is recorded. */
  | { readonly kind: 'unrecorded'; readonly gate: Allowed; readonly error: RecordUnavailable }
  /** Allowed and recorded: forward it, then call `finish` exactly once. */
  | {
      readonly kind: 'forward';
      readonly gate: Allowed;
      readonly outcome: ActionOutcome;
      finish(result: Finish): void;
    };

export interface Enter {
  readonly access: AccessRequest;
  /** What makes two requests "the same" for retry dedupe (the codec's fingerprint). */
  readonly fingerprint: Buffer;
  readonly signal: AbortSignal;
  /** The row for this request with the path's facts (front, detail, times from the front). */
  readonly row: (facts: RowFacts) => ActionRecord;
  /** Milliseconds since the request arrived (the outcome row's latency). */
  readonly elapsedMs: () => number;
  /**
   * The front's checks between the decision and the intent (the AWS front opens a scoped
   * STS session). A throw is recorded as a refusal with `describe(err)` and rethrown.
   */
  readonly beforeIntent?: (gate: Allowed) => Promise<void>;
  /** The error text recorded for a throw of `beforeIntent` (its front's error shape). */
  readonly describe?: (err: unknown) => string | undefined;
}

export interface Begin {
  readonly requestId: string;
  readonly agent: string;
  readonly gate: Allowed;
  /** The intent row (stage 'intent'). */
  readonly intent: ActionRecord;
  /** The refusal row when the intent could not be recorded (stage 'unrecorded'). */
  readonly unrecorded: (error: string) => ActionRecord;
  readonly elapsedMs: () => number;
}

export class AccessPath {
  constructor(
    private readonly gate: Gate,
    private readonly recorder: Recorder,
  ) {}

  async enter(e: Enter): Promise<Entry> {
    const gate = await this.gate.authorize(e.access, e.fingerprint, e.signal);
    const outcome = outcomeOf(gate);
    if (gate.kind === 'deny') {
      this.recorder.refused(e.row({ stage: 'denied', gate, outcome, error: gate.message }));
      return { kind: 'refused', gate, outcome };
    }
    if (e.beforeIntent !== undefined) {
      try {
        await e.beforeIntent(gate);
      } catch (err) {
        this.recorder.refused(
          e.row({ stage: 'checks', gate, outcome, error: e.describe?.(err) ?? (err as Error).message }),
        );
        throw err;
      }
    }
    const begun = await this.begin({
      requestId: e.access.id,
      agent: e.access.agent,
      gate,
      intent: e.row({ stage: 'intent', gate, outcome, error: undefined }),
      unrecorded: (error) => e.row({ stage: 'unrecorded', gate, outcome: 'error', error }),
      elapsedMs: e.elapsedMs,
    });
    if (begun instanceof RecordUnavailable) return { kind: 'unrecorded', gate, error: begun };
    return { kind: 'forward', gate, outcome, finish: begun.finish };
  }

  /**
   * The durability rule, on its own: records the intent of an allowed request durably and
   * returns what records its outcome; or, when the intent cannot be made durable, records the
   * refusal and returns why (the front then answers it and sends nothing). `enter` uses it;
   * the Postgres front calls it per execution of a statement it gated once.
   */
  async begin(b: Begin): Promise<{ finish(result: Finish): void } | RecordUnavailable> {
    try {
      await this.recorder.intent(b.intent);
    } catch (err) {
      if (!(err instanceof RecordUnavailable)) throw err;
      this.recorder.refused(b.unrecorded(err.message));
      return err;
    }
    let finished = false;
    return {
      finish: (r) => {
        if (finished) return;
        finished = true;
        this.recorder.outcome({
          ...r,
          latencyMs: r.latencyMs ?? b.elapsedMs(),
          requestId: b.requestId,
          at: new Date(),
          agent: b.agent,
          grantId: b.gate.grantId,
          approvalId: b.gate.approvalId,
        });
      },
    };
  }

  /** A request refused before the gate (bad signature, a changed tool definition): its one row. */
  refuse(row: ActionRecord): void {
    this.recorder.refused(row);
  }
}
