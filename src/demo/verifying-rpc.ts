/**
 * A strict stand-in for the RPC-style AWS services (SQS, SNS, Lambda, Secrets
 * Manager, SSM, KMS and any other service), for tests: no local implementation
 * of these exists, so it verifies the SigV4 signature exactly as AWS would (with
 * Airlock's upstream credentials or an STS stand-in session, whose session policy
 * it enforces), records exactly what it received, and answers the few operations
 * the tests call with minimal valid responses.
 */
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { AwsError } from '../fronts/aws/aws-error.js';
import { codecFor } from '../fronts/aws/codecs.js';
import { headerMap } from '../fronts/aws/sigv4-verify.js';
import { listenLocal } from './local-server.js';
import { authenticateAsAws } from './stand-in-auth.js';
import type { StsStandIn } from './sts-stand-in.js';

export interface RpcReceived {
  readonly service: string;
  readonly operation: string;
  readonly accessKeyId: string;
  readonly sessionName: string | undefined;
  readonly path: string;
  readonly body: string;
  readonly headers: Record<string, string>;
}

export interface VerifyingRpc {
  readonly url: string;
  readonly received: RpcReceived[];
  readonly refused: string[];
  close(): Promise<void>;
}

export async function startVerifyingRpc(
  creds: { accessKeyId: string; secretAccessKey: string },
  opts: { sts?: StsStandIn; accountId?: string } = {},
): Promise<VerifyingRpc> {
  const account = opts.accountId ?? '123456789012';
  const received: RpcReceived[] = [];
  const refused: string[] = [];
  const server = http.createServer((req, res) => {
    const headers = headerMap(req.rawHeaders);
    const codec = codecFor(
      /Credential=[^/]+\/\d{8}\/[^/]+\/([a-z0-9-]+)\//.exec(headers.get('authorization') ?? '')?.[1],
    );
    authenticateAsAws(codec, req, headers, creds, {
      sts: opts.sts,
      accountId: account,
      deniedCode: 'AccessDeniedException',
    })
      .then(({ prepared: p, accessKeyId, session }) => {
        const body = Buffer.isBuffer(p.forward.body) ? p.forward.body.toString('utf8') : '';
        const kept: Record<string, string> = {};
        for (const [k, v] of headers) if (k !== 'authorization' && k !== 'x-amz-security-token') kept[k] = v;
        received.push({
          service: p.service,
          operation: p.operation,
          accessKeyId,
          sessionName: session?.sessionName,
          path: p.forward.rawPath,
          body,
          headers: kept,
        });
        const r = respond(p.service, p.operation, body, account);
        res.writeHead(r.status, { 'content-type': r.type, 'x-amzn-requestid': randomUUID(), ...r.headers });
        res.end(r.body);
      })
      .catch((err: unknown) => {
        const e = err instanceof AwsError ? err : new AwsError('InternalFailure', String(err), 500);
        refused.push(`${e.code}: ${e.message}`);
        const r = e.render('upstream', codec.protocolFor?.(headers) ?? codec.protocol);
        res.writeHead(r.status, r.headers);
        res.end(r.body);
      });
  });
  const local = await listenLocal(server);
  return {
    url: local.url,
    received,
    refused,
    async close() {
      await local.close();
    },
  };
}

interface Reply {
  status: number;
  type: string;
  body: string;
  headers?: Record<string, string>;
}

const json10 = (o: unknown): Reply => ({
  status: 200,
  type: 'application/x-amz-json-1.0',
  body: JSON.stringify(o),
});
const json11 = (o: unknown): Reply => ({
  status: 200,
  type: 'application/x-amz-json-1.1',
  body: JSON.stringify(o),
});
const xml = (op: string, ns: string, result: string): Reply => ({
  status: 200,
  type: 'text/xml',
  body: `<${op}Response xmlns="${ns}"><${op}Result>${result}</${op}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${op}Response>`,
});

/** Minimal valid answers for the operations the tests call. */
function respond(service: string, operation: string, body: string, account: string): Reply {
  const input = (): Record<string, unknown> => {
    try {
      return JSON.parse(body) as Record<string, unknown>;
    } catch {
      return {};
    }
  };
  switch (`${service}:${operation}`) {
    case 'sqs:SendMessage': {
      const msg = String(input().MessageBody ?? '');
      return json10({
        MD5OfMessageBody: createHash('md5').update(msg).digest('hex'),
        MessageId: randomUUID(),
      });
    }
    case 'sqs:ReceiveMessage':
      return json10({ Messages: [] });
    case 'sns:Publish':
      return xml(
        'Publish',
        'http://sns.amazonaws.com/doc/2010-03-31/',
        `<MessageId>${randomUUID()}</MessageId>`,
      );
    case 'lambda:Invoke':
      return {
        status: 200,
        type: 'application/json',
        body: JSON.stringify({ echo: body === '' ? null : JSON.parse(body) }),
        headers: { 'x-amz-executed-version': '$LATEST' },
      };
    case 'secretsmanager:GetSecretValue': {
      const id = String(input().SecretId ?? '');
      const name = id.startsWith('arn:') ? (id.split(':secret:')[1] ?? id) : id;
      return json11({
        ARN: `arn:aws:secretsmanager:us-east-1:${account}:secret:${name}-AbCdEf`,
        Name: name,
        SecretString: 'stand-in-secret-value',
        VersionId: 'v1',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_700_000_000,
      });
    }
    case 'ssm:GetParameter': {
      const name = String(input().Name ?? '');
      return json11({ Parameter: { Name: name, Type: 'String', Value: 'stand-in-value', Version: 1 } });
    }
    case 'ssm:PutParameter':
      return json11({ Version: 2, Tier: 'Standard' });
    case 'kms:Encrypt':
      return json11({
        CiphertextBlob: Buffer.from(`ct:${String(input().Plaintext ?? '')}`).toString('base64'),
        KeyId: String(input().KeyId ?? ''),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      });
    case 'ec2:DescribeInstances':
      return {
        status: 200,
        type: 'text/xml',
        body: `<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${randomUUID()}</requestId><reservationSet/></DescribeInstancesResponse>`,
      };
    default:
      return {
        status: 400,
        type: 'application/x-amz-json-1.1',
        body: JSON.stringify({
          __type: 'UnknownOperationException',
          message: `stand-in does not implement ${service}:${operation}`,
        }),
      };
  }
}
