/**
 * The one outcome vocabulary of the record (docs/ARCHITECTURE.md, "Outcomes"), and the
 * one mapping from a gate result to it, shared by every front so that the same event is
 * recorded the same way whatever protocol it came in:
 *   allowed   forwarded: policy allowed it, or a grant already issued covers it (grantId set)
 *   approved  forwarded after it was held and a person approved it
 *   denied    refused by policy, by an approver, or for a missing reason; never forwarded
 *   lapsed    held, and no decision came in time (hold window passed, approval expired,
 *             or the client gave up): never forwarded; a retry waits on the approval
 *   error     forwarded (or about to be) and failed: the upstream, or Airlock's own
 *             side (an intent that could not be recorded; then nothing was sent)
 *   unknown   (readers only, src/ledger/action-outcomes.ts) forwarded, no outcome recorded
 */
import type { GateResult } from '../approvals/gate.js';
import type { ActionOutcome } from '../core/types.js';

export function outcomeOf(r: GateResult): ActionOutcome {
  if (r.kind === 'allow') return r.held ? 'approved' : 'allowed';
  return r.deny === 'lapsed' || r.deny === 'aborted' || r.deny === 'expired' ? 'lapsed' : 'denied';
}
