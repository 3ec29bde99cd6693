/**
 * A strict stand-in for AWS S3 in front of s3rver (which checks no signatures
 * we can rely on): it accepts only requests SigV4-signed with Airlock's upstream
 * credentials or an STS session issued by the STS stand-in (whose session policy
 * it enforces as IAM would), verifies the payload as S3 does (hash, aws-chunked
 * chunk signatures, trailing checksums), then proxies the decoded request to
 * s3rver, streaming. Every passing request proves Airlock re-signed it correctly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { AwsError } from '../fronts/aws/aws-error.js';
import { queryString } from '../fronts/aws/forward.js';
import { s3Codec } from '../fronts/aws/s3/s3-codec.js';
import { headerMap } from '../fronts/aws/sigv4-verify.js';
import { listenLocal } from './local-server.js';
import { authenticateAsAws } from './stand-in-auth.js';
import type { StsStandIn } from './sts-stand-in.js';

export interface S3Received {
  readonly operation: string;
  readonly method: string;
  readonly path: string;
  readonly accessKeyId: string;
  readonly scopes: readonly { action: string; resource: string }[];
  readonly sessionName: string | undefined;
  readonly contentSha256: string | undefined;
}

export interface VerifyingS3 {
  readonly url: string;
  readonly received: S3Received[];
  readonly refused: string[];
  close(): Promise<void>;
}

export async function startVerifyingS3(
  creds: { accessKeyId: string; secretAccessKey: string },
  opts: { sts?: StsStandIn; buckets?: string[] } = {},
): Promise<VerifyingS3> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-s3rver-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    vhostBuckets: false,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name })),
  });
  const inner = await s3rver.run();
  const agent = new http.Agent({ keepAlive: true });
  const received: S3Received[] = [];
  const refused: string[] = [];
  const server = http.createServer((req, res) => {
    const headers = headerMap(req.rawHeaders);
    authenticateAsAws(s3Codec, req, headers, creds, {
      sts: opts.sts,
      accountId: '000000000000',
      deniedCode: 'AccessDenied',
    })
      .then(({ prepared: p, accessKeyId, session }) => {
        received.push({
          operation: p.operation,
          method: p.forward.method,
          path: p.forward.rawPath,
          accessKeyId,
          scopes: p.scopes,
          sessionName: session?.sessionName,
          contentSha256: headers.get('x-amz-content-sha256'),
        });
        const out: Record<string, string> = {};
        for (const [k, v] of p.forward.headers) if (p.forward.forwardHeader?.(k) === true) out[k] = v;
        const body = p.forward.body;
        out['content-length'] = String(Buffer.isBuffer(body) ? body.length : body.length);
        const up = http.request(
          {
            host: '127.0.0.1',
            port: inner.port,
            method: p.forward.method,
            // s3rver's router matches no empty path segment: an S3 key with `//` goes as `/%2F`.
            path: p.forward.rawPath.replace(/\/\//g, '/%2F') + queryString(p.forward.query),
            headers: out,
            agent,
          },
          (r) => {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.pipe(res);
          },
        );
        up.on('error', () => res.destroy());
        if (Buffer.isBuffer(body)) up.end(body);
        else {
          body.stream.once('error', (err) => {
            refused.push(`payload: ${(err as Error).message}`);
            up.destroy();
            res.destroy();
          });
          body.stream.pipe(up);
        }
      })
      .catch((err: unknown) => {
        const e = err instanceof AwsError ? err : new AwsError('InternalError', String(err), 500);
        refused.push(`${e.code}: ${e.message}`);
        const r = e.render('upstream', 'rest-xml');
        res.writeHead(r.status, { ...r.headers, connection: 'close' });
        res.end(r.body);
      });
  });
  const local = await listenLocal(server);
  return {
    url: local.url,
    received,
    refused,
    async close() {
      agent.destroy();
      await local.close();
      await s3rver.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
