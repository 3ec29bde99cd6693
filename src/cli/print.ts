/** Human-readable renderings for the CLI. --json prints the raw objects instead. */
import { safe, table } from '../core/text-table.js';
import { OUTCOME_UNKNOWN } from '../ledger/action-outcomes.js';
import { ACTION_TIMES, type AuditRecord } from '../ledger/audit.js';

export function printApproval(r: Record<string, unknown>): string {
  const a = r.approval as Record<string, unknown>;
  const scopes = (a.scopes as { action: string; resource: string }[]).map(
    (s) => `    ${safe(s.action)}  ${safe(s.resource)}`,
  );
  const terms = a.terms as {
    requirements: { group: string; quorum: number; policyId: string }[];
    maxGrantSeconds: number;
  };
  return [
    `approval ${String(a.id)}  [${String(a.status)}]  expires ${String(a.expiresAt)}`,
    `  agent     ${safe(a.agent)}`,
    `  request   ${safe(a.service)}:${safe(a.operation)}`,
    ...scopes,
    `  reason    ${a.reason === undefined ? '(none given)' : safe(a.reason)}`,
    `  needs     ${terms.requirements.map((q) => `${q.quorum} of ${q.group} (policy ${q.policyId})`).join('; ')}`,
    ...grantLines(r.grantChoices as GrantChoices | undefined, terms.maxGrantSeconds),
    `  policy    ${(a.policyReasons as string[]).join(', ')}`,
    `  payload   ${safe(JSON.stringify(a.summary, null, 2), true).replace(/\n/g, '\n            ')}`,
    ...reviewLines(r.review as Record<string, unknown> | undefined),
  ].join('\n');
}

interface GrantChoices {
  default: string;
  widest: string;
  choices: { breadth: string; sentence: string; isDefault: boolean }[];
}

/**
 * What approving would let through before the approver decides (approvals/breadth.ts): the
 * default breadth's sentence, then each other one with the flag that picks it.
 */
function grantLines(g: GrantChoices | undefined, maxGrantSeconds: number): string[] {
  if (g === undefined) return [`  grant     up to ${maxGrantSeconds}s on the scopes above`];
  const first = g.choices.find((c) => c.isDefault);
  const others = g.choices.filter((c) => !c.isDefault);
  return [
    `  covers    ${safe(first?.sentence ?? '')}  (default: --breadth ${g.default})`,
    ...others.map((c) => `            --breadth ${c.breadth}: ${safe(c.sentence)}`),
    ...(g.widest === g.default
      ? [`            (the policy does not allow widening past "${g.widest}": @grant_widest)`]
      : []),
  ];
}

/** The guards this approver's decision must pass, from the detail's `review`. */
function reviewLines(g: Record<string, unknown> | undefined): string[] {
  if (g === undefined) return [];
  const needs = [
    `${String(g.minReviewSeconds)}s review (${typeof g.readingSeconds === 'number' ? 'the time to read it; ' : ''}approve from ${String(g.earliestApproveAt)})`,
    g.requireComment ? '--comment' : '',
    typeof g.confirmText === 'string' ? `--confirm ${g.confirmText}` : '',
  ].filter((x) => x !== '');
  return [`  risk      ${String(g.risk)}: approving needs ${needs.join(', ')}`];
}

function grantBreadthLine(g: Record<string, unknown>): string {
  const d = g.description;
  return `\n               ${String(g.breadth ?? 'scope')}: ${typeof d === 'string' ? safe(d) : '(issued before grant breadth was recorded)'}`;
}

export function printAudit(r: AuditRecord): string {
  const lines = [
    `approval ${r.approvalId}  [${r.status}]`,
    `1 requester  ${safe(r.requester.agent)} (key ${r.requester.accessKeyId ?? 'unknown'})`,
    `2 request    ${safe(r.request.service)}:${safe(r.request.operation)} at ${r.request.requestedAt}`,
    ...(r.request.scopes as { action: string; resource: string }[]).map(
      (s) => `               ${safe(s.action)}  ${safe(s.resource)}`,
    ),
    `3 reason     ${r.reason === null ? '(none)' : safe(r.reason)}`,
    '4 decisions',
    ...r.decisions.map(
      (d) =>
        `               ${String(d.approver)} ${String(d.verdict)} via ${String(d.channel)} at ${String(d.decidedAt)} — "${safe(d.comment)}" (first shown ${String(d.firstShownAt ?? 'never')})`,
    ),
    r.grant === null
      ? '5 grant      (none)'
      : `5 grant      ${String(r.grant.id)} until ${String(r.grant.expiresAt)}${r.grant.revokedAt ? ` (revoked by ${String(r.grant.revokedBy)} at ${String(r.grant.revokedAt)})` : ''} · uses ${String(r.grant.uses)}${r.grant.maxUses ? ` of ${String(r.grant.maxUses)}` : ''}${grantBreadthLine(r.grant)}`,
    ...cloudTrailHints(r),
    `6 actions    ${r.actions.length}`,
    ...r.actions.flatMap((a) => [
      `               ${String(a.at)} ${safe(a.operation)} ${a.outcome === OUTCOME_UNKNOWN ? 'OUTCOME UNKNOWN (forwarded; no outcome recorded)' : String(a.outcome)} upstream=${String(a.upstreamStatus ?? '-')}${typeof a.reason === 'string' ? ` reason "${safe(a.reason)}"` : ''}`,
      `                 times   ${ACTION_TIMES.map((k) => `${k.replace(/At$/, '')} ${String(a[k] ?? '-')}`).join(' · ')}`,
      ...postgresLines(a),
      ...mcpLines(a),
    ]),
  ];
  return lines.join('\n');
}

/** MCP calls also show their server, target, (redacted) arguments and result. */
function mcpLines(a: Record<string, unknown>): string[] {
  const m = a.mcp as Record<string, unknown> | undefined;
  if (m === undefined) return [];
  const result =
    m.resultBytes === undefined
      ? safe(a.error ?? '-')
      : `${String(m.resultBytes)} bytes${m.isError === true ? ', isError' : ''}${m.errorCode === undefined ? '' : `, error ${String(m.errorCode)}`} (${String(a.latencyMs)} ms)`;
  return [
    `                 mcp     ${safe(m.server)} ${safe(m.method)} ${safe(m.target)}`,
    `                 args    ${safe(JSON.stringify(m.args ?? {}))} (sha256 ${String(m.argsHash ?? '').slice(0, 16)}…)`,
    `                 result  ${result}`,
  ];
}

/** Postgres statements also show their session, SQL, parameters and result. */
function postgresLines(a: Record<string, unknown>): string[] {
  const pg = a.postgres as Record<string, unknown> | undefined;
  if (pg === undefined) return [];
  const result =
    pg.sqlstate !== undefined && pg.sqlstate !== null
      ? `error ${String(pg.sqlstate)}: ${safe(a.error ?? '')}`
      : `${((pg.commandTags as string[] | undefined) ?? []).join(', ') || '-'} (${String(pg.rows ?? 0)} rows, ${String(a.latencyMs)} ms)`;
  return [
    `                 session ${String(pg.session)} database ${String(pg.database)}`,
    `                 sql     ${safe(pg.sql, true).replace(/\n/g, '\n                         ')}`,
    ...(Array.isArray(pg.params) ? [`                 params  ${safe(JSON.stringify(pg.params))}`] : []),
    `                 result  ${result}`,
  ];
}

/**
 * Scoped STS sessions the grant's actions were signed with, and the CloudTrail lookup
 * that finds their events: CloudTrail's Username lookup attribute is the session name
 * for assumed-role callers. Data events (e.g. DynamoDB items, S3 objects) are only in
 * CloudTrail when a trail records data events; lookup-events covers management events.
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
 */
function cloudTrailHints(r: AuditRecord): string[] {
  const seen = new Map<string, { sessionName: string; roleArn: string }>();
  for (const a of r.actions) {
    const s = a.awsSession as { sessionArn?: string; sessionName?: string; roleArn?: string } | undefined;
    if (s?.sessionArn !== undefined && !seen.has(s.sessionArn))
      seen.set(s.sessionArn, { sessionName: String(s.sessionName), roleArn: String(s.roleArn) });
  }
  const source = `${r.request.service}.amazonaws.com`;
  return [...seen].flatMap(([arn, s]) => [
    `  aws session  ${arn}`,
    `               CloudTrail: aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=${s.sessionName} --query "Events[?EventSource=='${source}']"`,
  ]);
}

export { safe, table };
