/**
 * A strict local stand-in for AWS STS `AssumeRole`, for tests and the demo. Like
 * AWS it accepts only calls SigV4-signed (service `sts`) with the caller's secret,
 * checks every parameter against the AssumeRole limits, refuses unknown roles and a
 * wrong ExternalId, and answers STS-shaped XML with fresh session credentials.
 * The sessions it issues are what the verifying upstreams accept (with their
 * x-amz-security-token), and their inline session policy is enforced there.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import { AwsError } from '../fronts/aws/aws-error.js';
import { headerMap, verifySigV4 } from '../fronts/aws/sigv4-verify.js';
import { listenLocal } from './local-server.js';

export interface StandInRole {
  /** When set, AssumeRole must carry exactly this ExternalId. */
  readonly externalId?: string;
  /** The role's MaxSessionDuration (IAM default 3600). */
  readonly maxSessionSeconds?: number;
}

export interface AssumeRoleCall {
  readonly callerAccessKeyId: string;
  readonly roleArn: string;
  readonly sessionName: string;
  readonly durationSeconds: number;
  readonly policy: unknown;
  readonly policyText: string;
  readonly sourceIdentity: string | undefined;
  readonly tags: Record<string, string>;
  readonly externalId: string | undefined;
  readonly accessKeyId: string;
}

export interface IssuedSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly roleArn: string;
  readonly sessionName: string;
  readonly policy: PolicyDocument;
  readonly expiresAt: Date;
}

interface PolicyDocument {
  readonly Statement: readonly {
    Effect: string;
    Action: string | string[];
    Resource: string | string[];
    Condition?: Record<string, Record<string, string | string[]>>;
  }[];
}

export interface StsStandIn {
  readonly url: string;
  readonly calls: AssumeRoleCall[];
  readonly refusals: string[];
  /** Set to make every call fail with AccessDenied (the role's trust policy changed). */
  refuseAll: boolean;
  /** A live session by access key id (undefined when unknown or expired). */
  session(accessKeyId: string): IssuedSession | undefined;
  close(): Promise<void>;
}

const NAME = /^[\w+=,.@-]{2,64}$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;
const ROLE_ARN = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

export async function startStsStandIn(opts: {
  caller: { accessKeyId: string; secretAccessKey: string };
  roles: Record<string, StandInRole>;
}): Promise<StsStandIn> {
  const calls: AssumeRoleCall[] = [];
  const refusals: string[] = [];
  const sessions = new Map<string, IssuedSession>();
  const state = { refuseAll: false };
  const server = http.createServer((req, res) => {
    readAll(req)
      .then(async (body) => {
        const requestId = randomBytes(8).toString('hex');
        try {
          const xml = await handle(req, body);
          res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
          res.end(xml);
        } catch (err) {
          const e = err instanceof AwsError ? err : new AwsError('InternalFailure', String(err), 500);
          refusals.push(`${e.code}: ${e.message}`);
          res.writeHead(e.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
          res.end(
            `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
          );
        }
      })
      .catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, body: Buffer): Promise<string> {
    const headers = headerMap(req.rawHeaders);
    const v = await verifySigV4(
      { method: req.method ?? 'POST', rawUrl: req.url ?? '/', rawHeaders: req.rawHeaders, body },
      headers,
      async (key) => (key === opts.caller.accessKeyId ? opts.caller.secretAccessKey : undefined),
      { now: new Date(), skewSeconds: 300 },
    ).catch((err: unknown) => {
      const e = err as AwsError;
      throw new AwsError(
        e.code === 'UnrecognizedClientException' ? 'InvalidClientTokenId' : 'SignatureDoesNotMatch',
        e.message,
        403,
      );
    });
    if (v.service !== 'sts')
      throw new AwsError('SignatureDoesNotMatch', `credential scope names ${v.service}`, 403);
    const p = new URLSearchParams(body.toString('utf8'));
    const bad = (msg: string) => new AwsError('ValidationError', msg, 400);
    if (p.get('Action') !== 'AssumeRole')
      throw new AwsError('InvalidAction', `unsupported Action ${p.get('Action')}`);
    if (p.get('Version') !== '2011-06-15') throw bad('Version must be 2011-06-15');
    const roleArn = p.get('RoleArn') ?? '';
    const arnParts = ROLE_ARN.exec(roleArn);
    if (arnParts === null) throw bad(`RoleArn ${roleArn} is not a role ARN`);
    const role = opts.roles[roleArn];
    if (state.refuseAll || role === undefined)
      throw new AwsError(
        'AccessDenied',
        `User is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        403,
      );
    const sessionName = p.get('RoleSessionName') ?? '';
    if (!NAME.test(sessionName)) throw bad(`RoleSessionName ${sessionName} does not match [\\w+=,.@-]{2,64}`);
    const durationText = p.get('DurationSeconds');
    const duration = durationText === null ? 3600 : Number(durationText);
    const max = role.maxSessionSeconds ?? 3600;
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200)
      throw bad('DurationSeconds must be between 900 and 43200');
    if (duration > max)
      throw bad(`The requested DurationSeconds exceeds the MaxSessionDuration set for this role (${max}).`);
    const externalId = p.get('ExternalId') ?? undefined;
    if (role.externalId !== undefined && externalId !== role.externalId)
      throw new AwsError('AccessDenied', `ExternalId does not match the trust policy of ${roleArn}`, 403);
    const sourceIdentity = p.get('SourceIdentity') ?? undefined;
    if (sourceIdentity !== undefined && (!NAME.test(sourceIdentity) || sourceIdentity.startsWith('aws:')))
      throw bad('SourceIdentity is not valid');
    const policyText = p.get('Policy');
    if (policyText === null) throw bad('Airlock must always send a session Policy');
    if (policyText.length > 2048) throw new AwsError('PackedPolicyTooLarge', 'Policy is too large', 400);
    const policy = parsePolicy(policyText);
    const tags: Record<string, string> = {};
    for (let i = 1; p.has(`Tags.member.${i}.Key`); i++) {
      const k = p.get(`Tags.member.${i}.Key`) ?? '';
      const val = p.get(`Tags.member.${i}.Value`) ?? '';
      if (!TAG_KEY.test(k) || !TAG_VALUE.test(val) || k.toLowerCase().startsWith('aws:'))
        throw bad(`session tag ${k} is not valid`);
      if (Object.keys(tags).some((t) => t.toLowerCase() === k.toLowerCase())) throw bad(`duplicate tag ${k}`);
      tags[k] = val;
    }
    if (Object.keys(tags).length > 50) throw bad('at most 50 session tags');
    const issued: IssuedSession = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
      roleArn,
      sessionName,
      policy,
      expiresAt: new Date(Math.floor(Date.now() / 1000) * 1000 + duration * 1000),
    };
    sessions.set(issued.accessKeyId, issued);
    calls.push({
      callerAccessKeyId: v.accessKeyId,
      roleArn,
      sessionName,
      durationSeconds: duration,
      policy,
      policyText,
      sourceIdentity,
      tags,
      externalId,
      accessKeyId: issued.accessKeyId,
    });
    const [, partition, account, roleName] = arnParts;
    const sessionArn = `arn:${partition}:sts::${account}:assumed-role/${roleName}/${sessionName}`;
    return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    ${sourceIdentity === undefined ? '' : `<SourceIdentity>${escapeXml(sourceIdentity)}</SourceIdentity>`}
    <AssumedRoleUser>
      <Arn>${escapeXml(sessionArn)}</Arn>
      <AssumedRoleId>AROA${account}:${escapeXml(sessionName)}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${issued.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${escapeXml(issued.secretAccessKey)}</SecretAccessKey>
      <SessionToken>${escapeXml(issued.sessionToken)}</SessionToken>
      <Expiration>${issued.expiresAt.toISOString()}</Expiration>
    </Credentials>
    <PackedPolicySize>${Math.ceil((policyText.length * 100) / 2048)}</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>${randomBytes(8).toString('hex')}</RequestId></ResponseMetadata>
</AssumeRoleResponse>`;
  }

  const local = await listenLocal(server);
  return {
    url: local.url,
    calls,
    refusals,
    get refuseAll() {
      return state.refuseAll;
    },
    set refuseAll(v: boolean) {
      state.refuseAll = v;
    },
    session(accessKeyId) {
      const s = sessions.get(accessKeyId);
      return s !== undefined && s.expiresAt > new Date() ? s : undefined;
    },
    async close() {
      await local.close();
    },
  };
}

/**
 * What IAM does with a session policy for one action on one resource: no Deny matches
 * and some Allow does (glob `*`). A KMS key named by alias is evaluated as AWS KMS does:
 * on a key of the alias's account and region, with the alias in the kms:RequestAlias
 * condition key (the stand-in does not know which key an alias points to, so it uses a
 * key id no policy could name). Conditions: StringEquals only; any other operator or key
 * is refused (fail closed). The alias rules are written here again on purpose, not
 * imported from upstream/session-policy.ts: this stands in for AWS, and must not agree
 * with Airlock by sharing its code.
 */
export function sessionPolicyAllows(policy: PolicyDocument, action: string, resource: string): boolean {
  let target = resource;
  const context: Record<string, string> = {};
  const alias = /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}):(alias\/.+)$/.exec(resource);
  if (alias !== null && !/^kms:(Create|Delete|Update)Alias$/i.test(action)) {
    target = `${alias[1]}:key/00000000-0000-0000-0000-alias-target`;
    context['kms:requestalias'] = alias[2] as string;
  }
  const conditionsHold = (st: PolicyDocument['Statement'][number]) =>
    Object.entries(st.Condition ?? {}).every(
      ([op, keys]) =>
        op === 'StringEquals' &&
        Object.entries(keys).every(([k, want]) => {
          const have = context[k.toLowerCase()];
          return have !== undefined && list(want).includes(have);
        }),
    );
  const matches = (st: PolicyDocument['Statement'][number]) =>
    list(st.Action).some((a) => glob(a, action, true)) &&
    list(st.Resource).some((r) => glob(r, target, false)) &&
    conditionsHold(st);
  if (policy.Statement.some((st) => st.Effect === 'Deny' && matches(st))) return false;
  return policy.Statement.some((st) => st.Effect === 'Allow' && matches(st));
}

function parsePolicy(text: string): PolicyDocument {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new AwsError('MalformedPolicyDocument', 'Policy is not valid JSON', 400);
  }
  const d = doc as { Version?: unknown; Statement?: unknown };
  if (d.Version !== '2012-10-17' || !Array.isArray(d.Statement) || d.Statement.length === 0)
    throw new AwsError('MalformedPolicyDocument', 'Policy needs Version 2012-10-17 and Statements', 400);
  for (const st of d.Statement as Record<string, unknown>[]) {
    const okList = (v: unknown) =>
      typeof v === 'string' || (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'));
    if ((st.Effect !== 'Allow' && st.Effect !== 'Deny') || !okList(st.Action) || !okList(st.Resource))
      throw new AwsError('MalformedPolicyDocument', 'each Statement needs Effect, Action and Resource', 400);
  }
  return d as PolicyDocument;
}

function list(v: string | string[]): string[] {
  return Array.isArray(v) ? v : [v];
}

/** IAM matching: `*` any run, `?` one character, `${*}` `${?}` `${$}` the literal characters. */
function glob(pattern: string, value: string, caseInsensitive: boolean): boolean {
  let re = '';
  for (const tok of pattern.match(/\$\{[*?$]\}|[*?]|[^*?$]+|\$/g) ?? []) {
    if (tok === '*') re += '.*';
    else if (tok === '?') re += '.';
    else if (tok.startsWith('${')) re += `\\${tok[2]}`;
    else re += tok.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, caseInsensitive ? 'is' : 's').test(value);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
