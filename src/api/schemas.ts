/**
 * What the approver API sends, as zod schemas: the route declarations (route.ts) use them
 * to generate the OpenAPI 3.1 document, and under test every JSON response is checked
 * against them. Responses are strict objects (`additionalProperties: false`), so a
 * handler that starts sending a field nobody declared fails the tests instead of
 * drifting from the document. The shapes are the domain types of src/core/types.ts as
 * they are on the wire: Dates are ISO 8601 strings, and a field that is undefined in
 * memory is absent, or null where it came from the ledger (ledger-entries.ts toJson).
 */
import { z } from '@hono/zod-openapi';
import { GRANT_BREADTHS, type GrantBreadth } from '../core/types.js';

/** Absent, or null when read back from the ledger or a JSON column. */
const opt = <T extends z.ZodType>(t: T) => t.nullish();
export const time = z.iso.datetime().openapi({ description: 'ISO 8601 time (UTC)' });
/** A request field documented as a string; any other value counts as absent (as the API always did). */
export const lenientString = (description?: string) =>
  z
    .string()
    .optional()
    .catch(undefined)
    .openapi({ type: 'string', ...(description === undefined ? {} : { description }) });

export const ErrorBody = z
  .strictObject({
    error: z.string().openapi({ description: 'a stable machine-readable code, e.g. `not-reviewed`' }),
    message: z.string().openapi({ description: 'what went wrong and what to do, for a person' }),
  })
  .openapi('Error');

export const Scope = z
  .strictObject({
    action: z.string().openapi({ example: 'dynamodb:PutItem' }),
    resource: z.string().openapi({ example: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders' }),
    call: opt(z.string()).openapi({ description: 'sha256 of the canonical arguments of one exact MCP call' }),
  })
  .openapi('Scope');

const Risk = z.enum(['low', 'medium', 'high', 'critical']);
export const Breadth = z.enum(GRANT_BREADTHS as [GrantBreadth, ...GrantBreadth[]]).openapi({
  description: 'exact (this request, once), items (these keys), scope (the operation on the resource)',
});

/** One item a request names by key (a DynamoDB key, an S3 object key): what an `items` grant binds. */
export const ItemRef = z
  .strictObject({
    resource: z.string(),
    key: z.string().openapi({ description: 'sha256 of the canonical key' }),
    shown: z.string().openapi({ description: 'the key as the approver sees it, e.g. `pk=o-2`' }),
  })
  .openapi('ItemRef');

export const HoldTerms = z
  .strictObject({
    requirements: z.array(
      z.strictObject({ group: z.string(), quorum: z.number().int(), policyId: z.string() }),
    ),
    maxGrantSeconds: z.number().int(),
    requireReason: z.boolean(),
    breadth: opt(z.strictObject({ default: opt(Breadth), widest: opt(Breadth) })),
    guards: opt(
      z.strictObject({
        risk: opt(Risk),
        minReviewSeconds: opt(z.number()),
        readingTime: opt(z.boolean()),
        confirmResource: opt(z.boolean()),
        requireComment: opt(z.boolean()),
      }),
    ),
  })
  .openapi('HoldTerms');

export const AppliedGuards = z
  .strictObject({
    risk: Risk,
    minReviewSeconds: z.number(),
    readingSeconds: opt(z.number()).openapi({
      description: 'the time to read what is shown, when the hold asks for it',
    }),
    requireComment: z.boolean(),
    confirmText: opt(z.string()).openapi({ description: 'what the approver must type back to approve' }),
  })
  .openapi('AppliedGuards');

const approvalFields = {
  id: z.string(),
  requestId: z.string(),
  agent: z.string(),
  service: z.string(),
  operation: z.string(),
  scopes: z.array(Scope),
  reason: opt(z.string()),
  summary: z.record(z.string(), z.unknown()).openapi({ description: 'redacted payload summary' }),
  policyReasons: z.array(z.string()),
  terms: HoldTerms,
  status: z.enum(['pending', 'approved', 'denied', 'expired']),
  createdAt: time,
  expiresAt: time,
  decidedAt: opt(time),
  grantId: opt(z.string()),
  requestHash: opt(z.string()).openapi({ description: 'what an `exact` grant binds' }),
  items: opt(z.array(ItemRef)),
};
export const Approval = z.strictObject(approvalFields).openapi('Approval');
/** An approval in a list, with the guards a decision on it will face. */
export const QueueItem = z.strictObject({ ...approvalFields, guards: AppliedGuards }).openapi('QueueItem');

export const Decision = z
  .strictObject({
    approvalId: z.string(),
    approver: z.string(),
    verdict: z.enum(['approve', 'deny']),
    comment: z.string(),
    channel: z.string().openapi({ description: '`cli`, `api`, `console` or `slack`' }),
    shownAt: opt(time),
    decidedAt: time,
    reviewSeconds: opt(z.number()),
    viewedDetail: opt(z.boolean()),
    guards: opt(AppliedGuards),
    slack: opt(z.strictObject({ user: z.string(), team: z.string(), permalink: opt(z.string()) })),
    breadth: opt(Breadth),
  })
  .openapi('Decision');

const grantFields = {
  id: z.string(),
  approvalId: z.string(),
  agent: z.string(),
  scopes: z.array(Scope),
  issuedAt: time,
  expiresAt: time,
  maxUses: opt(z.number().int()),
  uses: z.number().int(),
  revokedAt: opt(time),
  revokedBy: opt(z.string()),
  breadth: opt(Breadth),
  requestHash: opt(z.string()),
  items: opt(z.array(ItemRef)),
  description: opt(z.string()).openapi({ description: 'what the approver was shown before deciding' }),
};
export const Grant = z.strictObject(grantFields).openapi('Grant');
/** A grant with whether it still covers requests now (records.ts grantState). */
export const GrantState = z.strictObject({ ...grantFields, active: z.boolean() }).openapi('GrantState');

export const DecideResult = z
  .strictObject({
    approval: Approval,
    decision: Decision,
    grant: opt(Grant),
    state: z.enum(['approved', 'denied', 'pending']),
  })
  .openapi('DecideResult');

export const ApprovalDetail = z
  .strictObject({
    approval: Approval,
    decisions: z.array(Decision),
    grant: Grant.nullable(),
    viewer: z.strictObject({ approver: z.string(), firstShownAt: time }),
    review: AppliedGuards.extend({ earliestApproveAt: time }),
    quorum: z.array(
      z.strictObject({
        group: z.string(),
        quorum: z.number().int(),
        policyId: z.string(),
        approvedBy: z.array(z.string()),
      }),
    ),
    policies: z.array(
      z.strictObject({ id: z.string(), effect: z.string(), text: z.string(), file: z.string() }),
    ),
    history: z.array(
      z.strictObject({
        id: z.string(),
        operation: z.string(),
        resources: z.array(z.string()),
        status: z.string(),
        createdAt: time,
        decidedAt: time.nullable(),
      }),
    ),
    grantChoices: z.strictObject({
      default: Breadth,
      widest: Breadth,
      choices: z.array(z.strictObject({ breadth: Breadth, sentence: z.string(), isDefault: z.boolean() })),
    }),
    coverage: z
      .strictObject({ exact: opt(z.string()), items: opt(z.string()), scope: opt(z.string()) })
      .openapi({ description: 'the sentences of grantChoices, by breadth' }),
  })
  .openapi('ApprovalDetail');

export const Revoked = z.strictObject({ revoked: z.string(), by: z.string() });
