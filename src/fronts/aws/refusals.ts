/** How the AWS front answers a refusal: the gate's denial as the AWS error the SDKs expect, and the write of any AwsError. */
import type { ServerResponse } from 'node:http';
import type { GateResult } from '../../approvals/gate.js';
import { AwsError, type ErrorProtocol } from './aws-error.js';

export function denyError(gate: Extract<GateResult, { kind: 'deny' }>): AwsError {
  const extra: Record<string, string> = { airlockReasons: gate.reasons.join(',') };
  if (gate.approvalId !== undefined) extra.airlockApprovalId = gate.approvalId;
  switch (gate.deny) {
    case 'missing-reason':
      return new AwsError('ValidationException', gate.message, 400, extra);
    case 'lapsed':
    case 'aborted':
      // Deliberately not a code the SDKs retry on their own: the agent should decide to wait again.
      return new AwsError('ApprovalPendingException', gate.message, 400, extra);
    default:
      return new AwsError('AccessDeniedException', gate.message, 400, extra);
  }
}

export function send(
  res: ServerResponse,
  err: AwsError,
  requestId: string,
  protocol: ErrorProtocol = 'json',
): void {
  const r = err.render(requestId, protocol);
  // A request whose body was never read (refused before streaming) cannot keep its connection.
  if (res.req.complete === false) res.setHeader('connection', 'close');
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}
