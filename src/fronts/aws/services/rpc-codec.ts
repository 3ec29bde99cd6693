/**
 * Codec for the services held in operation tables (rpc-table.ts): awsJson
 * (`X-Amz-Target: Prefix.Operation`), awsQuery (`Action=Operation` in a form body)
 * and Lambda's restJson1 routes. Buffered body (these APIs are small), header SigV4
 * verified over it, scopes from the service's table. An operation the table does
 * not list is refused here: Airlock never forwards what it cannot name.
 * https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
 * https://smithy.io/2.0/aws/protocols/aws-query-protocol.html
 */
import type { IncomingMessage } from 'node:http';
import type { Scope } from '../../../core/types.js';
import { AwsError, type ErrorProtocol } from '../aws-error.js';
import { type CodecContext, type Prepared, readBody, type ServiceCodec } from '../codec.js';
import { parseQuery, verifySigV4 } from '../sigv4-verify.js';
import { parseStrictJson, refuseEncodedBody } from '../strict-json.js';
import { LAMBDA_ROUTES } from './lambda.js';
import { parseQueryForm } from './query-form.js';
import { jsonParams, type Params, queryParams, type RpcService, rpcScopes } from './rpc-table.js';

/** Largest body of these APIs (Lambda's synchronous Invoke payload is 6 MB). */
const MAX_BODY = 8 * 1024 * 1024;
const FORM = 'application/x-www-form-urlencoded';
/** Headers these services need; restJson1 carries Lambda's invocation options in x-amz-* headers. */
const FORWARDED = new Set([
  'content-type',
  'content-encoding',
  'x-amz-target',
  'accept',
  'accept-encoding',
  'x-amz-invocation-type',
  'x-amz-log-type',
  'x-amz-client-context',
  'x-amzn-query-mode',
]);

export function protocolOf(headers: ReadonlyMap<string, string>, service: RpcService): ErrorProtocol {
  if (headers.has('x-amz-target') || service.signingName === 'lambda') return 'json';
  return (headers.get('content-type') ?? '').startsWith(FORM) || service.targetPrefix === undefined
    ? 'query'
    : 'json';
}

/** Any other service: reachable only when policy names its action exactly (docs/AWS.md). */
export function openService(signingName: string): RpcService {
  return { signingName, iamPrefix: signingName, targetPrefix: undefined, operations: new Map(), open: true };
}

export function rpcCodec(service: RpcService): ServiceCodec {
  return {
    protocol: service.targetPrefix === undefined && service.signingName !== 'lambda' ? 'query' : 'json',
    protocolFor: (headers) => protocolOf(headers, service),
    bufferedBodyMax: MAX_BODY,
    async prepare(req: IncomingMessage, headers: Map<string, string>, ctx: CodecContext): Promise<Prepared> {
      ctx.wantBody?.();
      const body = await readBody(
        req,
        MAX_BODY,
        () => new AwsError('ValidationException', 'Request body is too large', 413),
      );
      const rawUrl = req.url ?? '/';
      const verified = await verifySigV4(
        { method: req.method ?? 'POST', rawUrl, rawHeaders: req.rawHeaders, body },
        headers,
        ctx.secretFor,
        {
          now: ctx.receivedAt,
          skewSeconds: ctx.clockSkewSeconds,
          ...(ctx.acceptsSessionToken === undefined ? {} : { acceptsSessionToken: ctx.acceptsSessionToken }),
        },
      );
      if (verified.service !== service.signingName)
        throw new AwsError('InvalidSignatureException', `credential scope names ${verified.service}`);
      const q = rawUrl.indexOf('?');
      const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
      const query = parseQuery(q === -1 ? '' : rawUrl.slice(q + 1));
      // awsQuery reads parameters from the query string as well as the body, so
      // `?Action=DeleteQueue` beside a body saying `Action=ListQueues` is ambiguous; only
      // Lambda's REST routes use the query (Qualifier). Never forwarded: refused.
      if (Object.keys(query).length > 0 && service.signingName !== 'lambda')
        throw new AwsError(
          'InvalidParameterValue',
          `Airlock refuses query-string parameters on ${service.iamPrefix} calls: put them in the body`,
        );
      if (Object.values(query).some(Array.isArray))
        throw new AwsError('InvalidParameterValue', 'a query-string parameter appears more than once');
      if (service.open !== true) refuseEncodedBody(headers);
      const { name, params, summary } = readCall(
        service,
        req.method ?? 'POST',
        rawPath,
        query,
        headers,
        body,
      );
      checkRequestTarget(service, rawPath, params);
      const op =
        service.operations.get(name) ??
        (service.open === true ? { cls: 'admin' as const, resources: [] } : undefined);
      if (op === undefined) {
        throw new AwsError(
          'AccessDeniedException',
          `Airlock does not know the ${service.iamPrefix} operation ${name}, so it cannot be authorized; it was not sent`,
        );
      }
      const scopes: Scope[] = rpcScopes(service, name, op, params, {
        region: verified.region,
        accountId: ctx.accountId,
      });
      return {
        service: service.signingName,
        region: verified.region,
        operation: name,
        scopes,
        summary: { ...summary, bytes: body.length },
        signedHeaders: verified.signedHeaders,
        fingerprint: body,
        forward: {
          method: req.method ?? 'POST',
          rawPath,
          query,
          headers,
          forwardHeader: (h) => FORWARDED.has(h),
          body,
        },
      };
    },
  };
}

const SQS_QUEUE_PATH = /^\/\d{12}\/[\w-]{1,80}(\.fifo)?$/;

/**
 * These protocols are addressed at `/` (SQS also at a queue's own path): a request sent to
 * one queue's path while its QueueUrl names another could be authorized on one and run on
 * the other, so a path and a QueueUrl must agree, and no other path is accepted.
 */
function checkRequestTarget(service: RpcService, rawPath: string, params: Params): void {
  if (service.signingName === 'lambda' || rawPath === '/') return;
  if (service.signingName === 'sqs' && SQS_QUEUE_PATH.test(rawPath)) {
    const url = params.get('QueueUrl');
    let path: string | undefined;
    try {
      path = url === undefined ? undefined : new URL(url).pathname;
    } catch {
      path = undefined;
    }
    if (path === rawPath) return;
    throw new AwsError(
      'InvalidAddress',
      `the request path ${rawPath.slice(0, 100)} and QueueUrl name different queues`,
    );
  }
  throw new AwsError(
    'InvalidAddress',
    `Airlock accepts ${service.iamPrefix} calls at / only (got ${rawPath.slice(0, 100)})`,
  );
}

/** Which operation, and its parameters, in whichever protocol the client used. */
function readCall(
  service: RpcService,
  method: string,
  rawPath: string,
  query: Record<string, string | string[]>,
  headers: ReadonlyMap<string, string>,
  body: Buffer,
): { name: string; params: Params; summary: Record<string, unknown> } {
  if (service.signingName === 'lambda' && service.open !== true) {
    for (const r of LAMBDA_ROUTES) {
      const m = r.method === method ? r.path.exec(rawPath) : null;
      if (m === null) continue;
      const fields: Record<string, string> = {};
      if (m[1] !== undefined) {
        const qualifier = typeof query.Qualifier === 'string' ? `:${query.Qualifier}` : '';
        fields.FunctionName = `${decode(m[1])}${qualifier}`;
      }
      return { name: r.name, params: jsonParams(fields), summary: { ...fields } };
    }
    throw new AwsError(
      'AccessDeniedException',
      `Airlock does not know the Lambda operation ${method} ${rawPath}`,
    );
  }
  const target = headers.get('x-amz-target');
  if (target !== undefined) {
    const dot = target.lastIndexOf('.');
    const prefixOk = service.open === true || target.slice(0, dot) === service.targetPrefix;
    if (dot <= 0 || !prefixOk || !/^[A-Za-z0-9]{1,128}$/.test(target.slice(dot + 1)))
      throw new AwsError(
        'UnknownOperationException',
        `X-Amz-Target ${target} is not a ${service.iamPrefix} operation`,
      );
    // The upstream picks its protocol by Content-Type: a JSON call must say JSON, or a body
    // that is both valid JSON and a form (`{"a":"&Action=DeleteQueue&QueueUrl=…"}`) could be
    // authorized as one operation and run as another.
    if (!/^application\/(x-amz-json-1\.[01]|json)\s*(;|$)/i.test(headers.get('content-type') ?? ''))
      throw new AwsError(
        'UnknownOperationException',
        'an X-Amz-Target call must have Content-Type application/x-amz-json-1.0 or 1.1',
      );
    const parsed =
      body.length === 0
        ? {}
        : parseStrictJson(
            body.toString('utf8'),
            () => new AwsError('SerializationException', 'Request body is not valid JSON'),
          );
    return { name: target.slice(dot + 1), params: jsonParams(parsed), summary: summarize(parsed) };
  }
  if ((headers.get('content-type') ?? '').startsWith(FORM)) {
    const form = parseQueryForm(utf8(body));
    // SQS's Query protocol may address the queue by the request path (/ACCOUNT/QUEUE).
    if (service.signingName === 'sqs' && !form.has('QueueUrl') && /^\/\d{12}\/[\w-]+(\.fifo)?$/.test(rawPath))
      form.set('QueueUrl', `https://${headers.get('host') ?? 'sqs'}${rawPath}`);
    const action = form.get('Action');
    if (action === undefined || !/^[A-Za-z]{1,128}$/.test(action))
      throw new AwsError('MissingAction', 'The request must contain the parameter Action');
    const summary: Record<string, unknown> = {};
    for (const [k, v] of form) if (k !== 'Action' && k !== 'Version') summary[k] = redact(k, v);
    return { name: action, params: queryParams(form), summary };
  }
  throw new AwsError('UnknownOperationException', 'Missing X-Amz-Target header or Action parameter');
}

/** What approvers see: names, ids and sizes; message bodies, plaintexts and secret values only by length. */
function summarize(parsed: unknown): Record<string, unknown> {
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>))
    out[k] =
      typeof v === 'string'
        ? redact(k, v)
        : Array.isArray(v)
          ? `(${v.length} items)`
          : typeof v === 'object'
            ? '(object)'
            : v;
  return out;
}

const SENSITIVE =
  /^(MessageBody|Message|Plaintext|CiphertextBlob|SecretString|SecretBinary|Value|Payload|Subject|MessageAttributes.*|Entries.*)$/;

/**
 * Parameters that carry a secret by their name, in any service (the open ones included):
 * RDS MasterUserPassword, Cognito Password, IAM/Redshift passwords, tokens, private keys.
 */
const SECRET_NAME = /passw|passphrase|secret|token|credential|private.?key|api.?key|auth|signature/i;

function redact(key: string, value: string): string {
  const named = SECRET_NAME.test(key) && !/(Id|Ids|Name|Names|Arn|Arns|Type|Count)$/.test(key);
  if (SENSITIVE.test(key) || /\.(MessageBody|Message|Value)$/.test(key) || named)
    return `(${value.length} chars)`;
  return value.length > 256 ? `${value.slice(0, 256)}…` : value;
}

/** A form body is ASCII on the wire; invalid UTF-8 would be read differently by each decoder. */
function utf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new AwsError('MalformedQueryString', 'the form body is not valid UTF-8');
  }
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new AwsError('ValidationException', 'bad percent-encoding in the path');
  }
}
