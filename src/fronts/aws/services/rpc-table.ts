/**
 * Operation tables for the RPC-style services (JSON and Query protocols): per
 * operation, the IAM action, its class and where the resource names are in the
 * request; and how each kind of name becomes the ARN IAM checks. One table per
 * service (sqs.ts, sns.ts, secrets-manager.ts, ssm.ts, kms.ts, lambda.ts) holds
 * only data; extraction is the same code for all of them.
 * https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
 */
import type { Scope } from '../../../core/types.js';
import { AwsError } from '../aws-error.js';

export type RpcClass = 'read' | 'write' | 'admin';

export type ArnKind =
  | 'sqsQueueUrl'
  | 'sqsQueueName'
  | 'snsTopicArn'
  | 'snsTopicName'
  | 'snsTargetArn'
  | 'snsSubscriptionArn'
  | 'secret'
  | 'ssmParameter'
  | 'kmsKey'
  | 'kmsAlias'
  | 'lambdaFunction'
  | 'arn';

export interface ResourceRef {
  /** Request field holding the name (JSON member / Query parameter). */
  readonly field: string;
  readonly arn: ArnKind;
  /** A list of names (JSON array, Query `Field.member.N`). */
  readonly list?: boolean;
  /** Absent field: this ref contributes `*` (e.g. KMS Decrypt without KeyId). */
  readonly optional?: boolean;
  /** IAM action for this resource when it differs from the operation's (ReEncryptFrom/To). */
  readonly action?: string;
}

export interface RpcOperation {
  /** IAM action without prefix; default: the operation name. */
  readonly action?: string;
  readonly cls: RpcClass;
  /** Where the resources are; empty: the action has no resource-level permissions (`*`). */
  readonly resources: readonly ResourceRef[];
  /** At least one of these refs must be present (SNS Publish: TopicArn | TargetArn | PhoneNumber). */
  readonly oneOf?: boolean;
}

export interface RpcService {
  /** SigV4 signing name, e.g. `sqs`. */
  readonly signingName: string;
  /** IAM prefix, e.g. `sqs`. */
  readonly iamPrefix: string;
  /** awsJson X-Amz-Target prefix (e.g. `AmazonSQS`); undefined for Query-only services. */
  readonly targetPrefix: string | undefined;
  readonly operations: ReadonlyMap<string, RpcOperation>;
  /**
   * A service without a table (any other service): every operation is `PREFIX:Op` on `*`,
   * any X-Amz-Target prefix is accepted, and policy must name the action exactly (engine.ts).
   */
  readonly open?: boolean;
}

/** Field access over a JSON body or a Query parameter map. */
export interface Params {
  get(field: string): string | undefined;
  list(field: string): string[] | undefined;
}

export function jsonParams(body: unknown): Params {
  const obj =
    body !== null && typeof body === 'object' && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : {};
  return {
    get: (f) => {
      const v = obj[f];
      if (v === undefined) return undefined;
      if (typeof v !== 'string') throw new AwsError('ValidationException', `${f} must be a string`);
      return v;
    },
    list: (f) => {
      const v = obj[f];
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
        throw new AwsError('ValidationException', `${f} must be a list of strings`);
      return v as string[];
    },
  };
}

/** awsQuery parameters: lists are `Field.member.1`, `Field.member.2`, … */
export function queryParams(params: ReadonlyMap<string, string>): Params {
  return {
    // Each name appears once: query-form.ts refuses repeats.
    get: (f) => params.get(f),
    list: (f) => {
      const out: string[] = [];
      for (let i = 1; params.has(`${f}.member.${i}`); i++) out.push(params.get(`${f}.member.${i}`) ?? '');
      return out.length === 0 ? undefined : out;
    },
  };
}

export interface RpcContext {
  readonly region: string;
  readonly accountId: string;
}

/** Scopes of one operation: every (action, ARN) IAM would check. */
export function rpcScopes(
  service: RpcService,
  opName: string,
  op: RpcOperation,
  p: Params,
  ctx: RpcContext,
): Scope[] {
  const base = `${service.iamPrefix}:${op.action ?? opName}`;
  if (op.resources.length === 0) return [{ action: base, resource: '*' }];
  const scopes: Scope[] = [];
  let present = 0;
  for (const ref of op.resources) {
    const action = ref.action === undefined ? base : `${service.iamPrefix}:${ref.action}`;
    const values = ref.list === true ? p.list(ref.field) : asList(p.get(ref.field));
    if (values === undefined || values.length === 0) {
      if (op.oneOf === true) continue;
      if (ref.optional === true) {
        push(scopes, action, '*');
        continue;
      }
      throw new AwsError('ValidationException', `${ref.field} is required for ${opName}`);
    }
    present++;
    for (const v of values) push(scopes, action, toArn(ref.arn, v, ref.field, ctx));
  }
  if (op.oneOf === true && present === 0) push(scopes, base, '*');
  return scopes;
}

function asList(v: string | undefined): string[] | undefined {
  return v === undefined ? undefined : [v];
}

function push(scopes: Scope[], action: string, resource: string): void {
  if (!scopes.some((s) => s.action === action && s.resource === resource)) scopes.push({ action, resource });
}

export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:.+$/;
const NAME = /^[\w+=,.@/:-]{1,512}$/;

/** A name or ARN as the ARN IAM evaluates. Anything not clearly one is refused, never guessed. */
export function toArn(kind: ArnKind, value: string, field: string, ctx: RpcContext): string {
  const p = partitionOf(ctx.region);
  const bad = () =>
    new AwsError('ValidationException', `${field} is not a valid ${kind} (${value.slice(0, 100)})`);
  const head = (svc: string) => `arn:${p}:${svc}:${ctx.region}:${ctx.accountId}`;
  switch (kind) {
    case 'arn':
    case 'snsTopicArn':
    case 'snsTargetArn':
      if (!ARN.test(value)) throw bad();
      return value;
    case 'snsSubscriptionArn': {
      // arn:aws:sns:REGION:ACCOUNT:TOPIC:SUBSCRIPTION-ID: IAM authorizes against the topic.
      const m = /^(arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(?:\.fifo)?):[0-9a-f-]{36}$/.exec(value);
      if (m?.[1] === undefined) throw bad();
      return m[1];
    }
    case 'sqsQueueUrl': {
      let u: URL;
      try {
        u = new URL(value);
      } catch {
        throw bad();
      }
      const m = /^\/(\d{12})\/([\w-]{1,80}(?:\.fifo)?)$/.exec(u.pathname);
      if (m === null) throw bad();
      return `arn:${p}:sqs:${ctx.region}:${m[1]}:${m[2]}`;
    }
    case 'sqsQueueName':
      if (!/^[\w-]{1,80}(\.fifo)?$/.test(value)) throw bad();
      return `${head('sqs')}:${value}`;
    case 'snsTopicName':
      if (!/^[\w-]{1,256}(\.fifo)?$/.test(value)) throw bad();
      return `${head('sns')}:${value}`;
    case 'secret':
      if (value.startsWith('arn:')) {
        if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(value)) throw bad();
        return value;
      }
      if (!/^[\w/+=.@-]{1,512}$/.test(value)) throw bad();
      // A secret's ARN ends in "-" and 6 random characters; by name, IAM policies match it so.
      // https://docs.aws.amazon.com/secretsmanager/latest/userguide/auth-and-access_examples.html
      return `${head('secretsmanager')}:secret:${value}-??????`;
    case 'ssmParameter':
      if (value.startsWith('arn:')) {
        if (!/^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/.+$/.test(value)) throw bad();
        return value;
      }
      if (!/^\/?[\w.\-/]{1,2048}$/.test(value)) throw bad();
      return `${head('ssm')}:parameter/${value.replace(/^\//, '')}`;
    case 'kmsKey':
      if (value.startsWith('arn:')) {
        if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/.test(value)) throw bad();
        return value;
      }
      if (value.startsWith('alias/')) return toArn('kmsAlias', value, field, ctx);
      if (!/^(mrk-)?[0-9a-f-]{32,36}$/.test(value)) throw bad();
      return `${head('kms')}:key/${value}`;
    case 'kmsAlias':
      if (value.startsWith('arn:')) return toArn('kmsKey', value, field, ctx);
      if (!/^alias\/[\w/-]{1,250}$/.test(value)) throw bad();
      return `${head('kms')}:${value}`;
    case 'lambdaFunction': {
      // name, name:qualifier, partial ARN (ACCOUNT:function:name) or full ARN.
      const full = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]{1,64}(:[\w$-]{1,128})?$/;
      if (value.startsWith('arn:')) {
        if (!full.test(value)) throw bad();
        return value;
      }
      const partial = /^(\d{12}):function:([\w-]{1,64}(?::[\w$-]{1,128})?)$/.exec(value);
      if (partial !== null) return `arn:${p}:lambda:${ctx.region}:${partial[1]}:function:${partial[2]}`;
      if (!/^[\w-]{1,64}(:[\w$-]{1,128})?$/.test(value)) throw bad();
      return `${head('lambda')}:function:${value}`;
    }
  }
  if (!NAME.test(value)) throw bad();
  return value;
}

/** Class of an IAM action in a table (the strictest when several operations share it). */
export function rpcActionClass(service: RpcService, action: string): RpcClass | 'unknown' {
  let found: RpcClass | undefined;
  const rank = (c: RpcClass) => (c === 'read' ? 0 : c === 'write' ? 1 : 2);
  for (const [name, op] of service.operations) {
    const actions = [
      `${service.iamPrefix}:${op.action ?? name}`,
      ...op.resources.flatMap((r) => (r.action === undefined ? [] : [`${service.iamPrefix}:${r.action}`])),
    ];
    if (actions.includes(action) && (found === undefined || rank(op.cls) > rank(found))) found = op.cls;
  }
  return found ?? 'unknown';
}

/** Shorthand for the tables: `op('write', [ref('QueueUrl', 'sqsQueueUrl')], 'SendMessage')`. */
export function op(cls: RpcClass, resources: readonly ResourceRef[] = [], action?: string): RpcOperation {
  return action === undefined ? { cls, resources } : { cls, resources, action };
}

export function ref(field: string, arn: ArnKind, more: Omit<ResourceRef, 'field' | 'arn'> = {}): ResourceRef {
  return { field, arn, ...more };
}

export function rpcIamActions(service: RpcService): string[] {
  const out = new Set<string>();
  for (const [name, op] of service.operations) {
    out.add(`${service.iamPrefix}:${op.action ?? name}`);
    for (const r of op.resources) if (r.action !== undefined) out.add(`${service.iamPrefix}:${r.action}`);
  }
  return [...out];
}
