/**
 * A strict stand-in for AWS in front of a local DynamoDB (dynalite, which checks
 * no signatures): it accepts only requests SigV4-signed with Airlock's upstream
 * credentials, exactly as AWS would, then proxies them to dynalite. Used by the
 * demo and the tests, so every passing request proves Airlock re-signed it correctly.
 */
import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { AwsError } from '../fronts/aws/aws-error.js';
import { extractDynamoDb } from '../fronts/aws/services/dynamodb.js';
import { headerMap, verifySigV4 } from '../fronts/aws/sigv4-verify.js';
import { type StsStandIn, sessionPolicyAllows } from './sts-stand-in.js';

export interface VerifyingUpstream {
  readonly url: string;
  /** Requests that reached dynalite, in order (target header + body). */
  readonly received: { target: string; accessKeyId: string; body: string; sessionName?: string }[];
  /** Requests refused for their signature. */
  readonly refused: string[];
  close(): Promise<void>;
}

export async function startVerifyingDynamo(
  creds: {
    accessKeyId: string;
    secretAccessKey: string;
  },
  /** Also accept sessions issued by this STS stand-in, enforcing their session policy as IAM would. */
  opts: { sts?: StsStandIn; accountId?: string } = {},
): Promise<VerifyingUpstream> {
  const dyn = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dyn.listen(0, '127.0.0.1', () => resolve()));
  const dynPort = (dyn.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true });
  const received: VerifyingUpstream['received'] = [];
  const refused: string[] = [];
  const server = http.createServer((req, res) => {
    readAll(req)
      .then(async (body) => {
        const headers = headerMap(req.rawHeaders);
        try {
          const v = await verifySigV4(
            { method: req.method ?? 'POST', rawUrl: req.url ?? '/', rawHeaders: req.rawHeaders, body },
            headers,
            async (key) =>
              key === creds.accessKeyId ? creds.secretAccessKey : opts.sts?.session(key)?.secretAccessKey,
            {
              now: new Date(),
              skewSeconds: 300,
              acceptsSessionToken: (key, token) => opts.sts?.session(key)?.sessionToken === token,
            },
          );
          if (v.service !== 'dynamodb')
            throw new AwsError('InvalidSignatureException', `credential scope names ${v.service}`);
          const session = opts.sts?.session(v.accessKeyId);
          if (session !== undefined) {
            if (!v.signedHeaders.includes('x-amz-security-token'))
              throw new AwsError('IncompleteSignatureException', 'x-amz-security-token must be signed');
            // What IAM does with a session policy: every action/resource must be allowed by it.
            const { scopes } = extractDynamoDb(
              headers.get('x-amz-target'),
              JSON.parse(body.toString('utf8')),
              {
                region: v.region,
                accountId: opts.accountId ?? '123456789012',
              },
            );
            const denied = scopes.find((sc) => !sessionPolicyAllows(session.policy, sc.action, sc.resource));
            if (denied !== undefined)
              throw new AwsError(
                'AccessDeniedException',
                `${session.sessionName} is not authorized to perform: ${denied.action} on resource: ${denied.resource} because no session policy allows it`,
              );
          }
          received.push({
            target: headers.get('x-amz-target') ?? '',
            accessKeyId: v.accessKeyId,
            body: body.toString('utf8'),
            ...(session === undefined ? {} : { sessionName: session.sessionName }),
          });
        } catch (err) {
          const e = err instanceof AwsError ? err : new AwsError('InternalFailure', String(err), 500);
          refused.push(`${e.code}: ${e.message}`);
          const r = e.render('upstream');
          res.writeHead(r.status, r.headers);
          res.end(r.body);
          return;
        }
        const fwdHeaders: Record<string, string> = {};
        for (const [k, v] of headers) if (k !== 'host') fwdHeaders[k] = v;
        const out = http.request(
          { host: '127.0.0.1', port: dynPort, method: req.method, path: req.url, headers: fwdHeaders, agent },
          (up) => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        out.on('error', () => res.destroy());
        out.end(body);
      })
      .catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    refused,
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => dyn.close(() => r()));
    },
  };
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
