/**
 * DynamoDB (and DynamoDB Streams) over awsJson1_0: buffered body (≤ 16 MB, the
 * service's own limit), header SigV4 verified over it, scopes from the
 * operation table (dynamodb.ts).
 */
import type { IncomingMessage } from 'node:http';
import { AwsError } from '../aws-error.js';
import { type CodecContext, type Prepared, readBody, type ServiceCodec } from '../codec.js';
import { verifySigV4 } from '../sigv4-verify.js';
import { parseStrictJson, refuseEncodedBody } from '../strict-json.js';
import { extractDynamoDb } from './dynamodb.js';

/** DynamoDB's own request limit is 16 MB; nothing larger is a valid call. */
const MAX_BODY = 16 * 1024 * 1024;

export const dynamoDbCodec: ServiceCodec = {
  protocol: 'json',
  bufferedBodyMax: MAX_BODY,
  async prepare(req: IncomingMessage, headers: Map<string, string>, ctx: CodecContext): Promise<Prepared> {
    ctx.wantBody?.();
    const body = await readBody(
      req,
      MAX_BODY,
      () => new AwsError('ValidationException', 'Request body exceeds 16 MB', 413),
    );
    const rawUrl = req.url ?? '/';
    const verified = await verifySigV4(
      { method: req.method ?? 'GET', rawUrl, rawHeaders: req.rawHeaders, body },
      headers,
      ctx.secretFor,
      { now: ctx.receivedAt, skewSeconds: ctx.clockSkewSeconds },
    );
    if (verified.service !== 'dynamodb') {
      throw new AwsError(
        'AccessDeniedException',
        `Airlock does not front the ${verified.service} service`,
        400,
      );
    }
    refuseEncodedBody(headers);
    const extraction = extractDynamoDb(headers.get('x-amz-target'), parseJson(body), {
      region: verified.region,
      accountId: ctx.accountId,
    });
    const q = rawUrl.indexOf('?');
    return {
      service: verified.service,
      region: verified.region,
      operation: extraction.operation,
      scopes: extraction.scopes,
      summary: extraction.summary,
      items: extraction.items,
      signedHeaders: verified.signedHeaders,
      fingerprint: body,
      forward: {
        method: req.method ?? 'POST',
        rawPath: q === -1 ? rawUrl : rawUrl.slice(0, q),
        query: {},
        headers,
        body,
      },
    };
  },
};

function parseJson(body: Buffer): unknown {
  return parseStrictJson(
    body.toString('utf8'),
    () => new AwsError('SerializationException', 'Request body is not valid JSON'),
  );
}
