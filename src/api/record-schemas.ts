/**
 * The linked record on the wire (ledger/audit.ts, api/records.ts): ledger bodies as they
 * were written (undefined fields are null there, ledger-entries.ts toJson), with each
 * forwarded action's intent joined to its outcome (ledger/action-outcomes.ts).
 * Strict like every response schema (schemas.ts).
 */
import { z } from '@hono/zod-openapi';
import { AppliedGuards, Decision, Grant, GrantState, HoldTerms, Scope, time } from './schemas.js';

const opt = <T extends z.ZodType>(t: T) => t.nullish();
const Outcome = z.enum(['allowed', 'denied', 'held', 'approved', 'lapsed', 'error', 'unknown']);

/** One action of the ledger, its outcome joined in when it was forwarded. */
const actionFields = {
  seq: z.number().int(),
  requestId: z.string(),
  at: time,
  agent: z.string(),
  front: z.string(),
  service: z.string(),
  operation: z.string(),
  scopes: z.array(Scope),
  reason: opt(z.string()),
  outcome: Outcome,
  policyReasons: z.array(z.string()),
  upstreamStatus: opt(z.number().int()),
  latencyMs: opt(z.number()),
  grantId: opt(z.string()),
  approvalId: opt(z.string()),
  error: opt(z.string()),
  awsSession: opt(
    z.strictObject({
      roleArn: z.string(),
      sessionArn: z.string(),
      sessionName: z.string(),
      sourceIdentity: z.string(),
      expiresAt: time,
    }),
  ),
  requestHash: opt(z.string()),
  postgres: opt(
    z.strictObject({
      session: z.string(),
      database: z.string(),
      sql: z.string(),
      params: opt(z.array(z.string())),
      commandTags: opt(z.array(z.string())),
      rows: opt(z.number().int()),
      sqlstate: opt(z.string()),
    }),
  ),
  mcp: opt(
    z.strictObject({
      server: z.string(),
      method: z.string(),
      target: z.string(),
      args: z.record(z.string(), z.unknown()),
      argsHash: z.string(),
      resultBytes: opt(z.number().int()),
      isError: opt(z.boolean()),
      errorCode: opt(z.number().int()),
    }),
  ),
  /** A refusal is one complete row; a forwarded request's intent carries it until joined. */
  phase: opt(z.literal('intent')),
  decision: opt(Outcome).openapi({ description: 'the gate outcome of an intent whose outcome is unknown' }),
  outcomeSeq: opt(z.number().int()),
  // The record's four times of an action (ledger/audit.ts ACTION_TIMES; null: did not happen).
  receivedAt: opt(time),
  decidedAt: opt(time),
  forwardedAt: opt(time),
  completedAt: opt(time),
};
export const RecordAction = z.strictObject(actionFields).openapi('RecordAction');

export const AuditRecord = z
  .strictObject({
    approvalId: z.string(),
    status: z.string(),
    requester: z.strictObject({ agent: z.string(), accessKeyId: opt(z.string()) }),
    request: z.strictObject({
      service: z.string(),
      operation: z.string(),
      scopes: z.array(Scope),
      summary: z.record(z.string(), z.unknown()),
      policyReasons: z.array(z.string()),
      terms: HoldTerms,
      requestedAt: time,
    }),
    reason: z.string().nullable(),
    decisions: z.array(
      Decision.extend({
        guards: opt(AppliedGuards),
        firstShownAt: time.nullable(),
      }),
    ),
    grant: Grant.nullable().openapi({ description: 'as it stands: uses and revocation from the ledger' }),
    actions: z.array(RecordAction),
    ledgerSeqs: z
      .array(z.number().int())
      .openapi({ description: 'the ledger entries the record was built from' }),
  })
  .openapi('AuditRecord');

export const RecordSummary = z
  .strictObject({
    id: z.string(),
    agent: z.string(),
    operation: z.string().openapi({ example: 'dynamodb:PutItem' }),
    resources: z.array(z.string()),
    status: z.string(),
    createdAt: time,
    grant: GrantState.nullable(),
  })
  .openapi('RecordSummary');

export const FullRecord = z
  .strictObject({
    audit: AuditRecord,
    grant: GrantState.nullable(),
    outOfGrant: z.array(RecordAction.extend({ outOfGrant: z.literal(true) })),
  })
  .openapi('FullRecord');
