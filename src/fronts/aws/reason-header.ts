/** The agent's reason for a request (`x-airlock-reason`), as approvers will read it (docs/AWS.md, "Giving a reason"). */
import { hasDeceptiveChars } from '../../core/display-text.js';
import { AwsError } from './aws-error.js';

const MAX_REASON = 1024;

export function readReason(raw: string | undefined, signedHeaders: readonly string[]): string | undefined {
  if (raw === undefined) return undefined;
  // The reason goes into the record approvers decide on: it must be covered by the signature,
  // or anyone on the path could rewrite it.
  if (!signedHeaders.includes('x-airlock-reason')) {
    throw new AwsError(
      'IncompleteSignatureException',
      'x-airlock-reason must be a signed header: add it before signing (an SDK build-step middleware or the CLI plugin, see docs/AWS.md)',
    );
  }
  // HTTP header values are latin-1 on the wire; agents may percent-encode UTF-8.
  let reason = raw;
  try {
    reason = decodeURIComponent(raw);
  } catch {
    /* not percent-encoded: keep as sent */
  }
  reason = reason.trim();
  if (reason === '') return undefined;
  // One line of plain text: control characters (terminal escapes, newlines that forge extra
  // lines) and bidirectional overrides would let the agent change what an approver reads.
  if (hasDeceptiveChars(reason))
    throw new AwsError(
      'ValidationException',
      'x-airlock-reason must be one line of text without control or bidirectional-override characters',
    );
  if (reason.length > MAX_REASON)
    throw new AwsError('ValidationException', `x-airlock-reason is longer than ${MAX_REASON} characters`);
  return reason;
}
