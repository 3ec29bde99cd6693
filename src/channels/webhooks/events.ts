/**
 * Ledger entries → webhook events (docs/webhooks.schema.json). Pure. Webhooks are fed
 * from the ledger, not from in-process callbacks, so every fact is sent whichever process
 * wrote it (a `grants revoke` from the CLI too), and a restart resumes where it stopped.
 */
import { createHash } from 'node:crypto';
import type { WebhookEvent } from '../../config/load-channels.js';
import type { LedgerEntry } from '../../ledger/store.js';

export interface WebhookPayload {
  readonly type: WebhookEvent;
  /** When the fact happened (the ledger entry's time). */
  readonly timestamp: string;
  /** Where the fact is in Airlock's ledger (`airlock audit show`, `audit verify`). */
  readonly ledger: { readonly seq: number; readonly hash: string };
  readonly data: Record<string, unknown>;
}

/** The event a ledger entry is, or undefined when it is none that webhooks carry. */
export function eventOf(e: LedgerEntry): WebhookPayload | undefined {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(e.body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const type = typeOf(e.kind, body);
  if (type === undefined) return undefined;
  // approval.resolved names its grant in the entry, not the body.
  const data =
    type === 'approval.resolved' && e.grantId !== undefined ? { ...body, grantId: e.grantId } : body;
  return { type, timestamp: e.at.toISOString(), ledger: { seq: e.seq, hash: e.hash }, data };
}

function typeOf(kind: LedgerEntry['kind'], body: Record<string, unknown>): WebhookEvent | undefined {
  switch (kind) {
    case 'approval.requested':
    case 'approval.decided':
    case 'approval.resolved':
    case 'grant.issued':
    case 'grant.revoked':
    case 'approver.revoked':
      return kind;
    case 'action':
      return body.outcome === 'denied' ? 'action.denied' : undefined;
    default:
      return undefined;
  }
}

/**
 * The idempotency id (`webhook-id`) of one event for one endpoint: derived from the
 * ledger seq and the URL, so enqueueing the same entry twice yields the same delivery.
 */
export function deliveryId(seq: number, url: string): string {
  return `msg_${createHash('sha256').update(`${seq}\n${url}`).digest('hex').slice(0, 32)}`;
}
