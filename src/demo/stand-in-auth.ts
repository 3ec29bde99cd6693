/**
 * How the AWS stand-ins authenticate a request as AWS would: Airlock's upstream
 * key, or a live session issued by the STS stand-in (token checked), and then
 * IAM's verdict on the session policy for every scope the request needs.
 */
import type { Scope } from '../core/types.js';
import { AwsError } from '../fronts/aws/aws-error.js';
import type { CodecContext, Prepared, ServiceCodec } from '../fronts/aws/codec.js';
import type { IssuedSession, StsStandIn } from './sts-stand-in.js';
import { sessionPolicyAllows } from './sts-stand-in.js';

export interface StandInAuthenticated {
  readonly prepared: Prepared;
  readonly accessKeyId: string;
  readonly session: IssuedSession | undefined;
}

export async function authenticateAsAws(
  codec: ServiceCodec,
  req: import('node:http').IncomingMessage,
  headers: Map<string, string>,
  creds: { accessKeyId: string; secretAccessKey: string },
  opts: { sts?: StsStandIn | undefined; accountId: string; deniedCode: string },
): Promise<StandInAuthenticated> {
  let accessKeyId = '';
  const ctx: CodecContext = {
    accountId: opts.accountId,
    clockSkewSeconds: 300,
    receivedAt: new Date(),
    secretFor: async (key) => {
      accessKeyId = key;
      return key === creds.accessKeyId ? creds.secretAccessKey : opts.sts?.session(key)?.secretAccessKey;
    },
    acceptsSessionToken: (key, token) => opts.sts?.session(key)?.sessionToken === token,
  };
  const prepared = await codec.prepare(req, headers, ctx);
  const session = opts.sts?.session(accessKeyId);
  if (session !== undefined) enforceSessionPolicy(session, prepared.scopes, opts.deniedCode);
  return { prepared, accessKeyId, session };
}

function enforceSessionPolicy(session: IssuedSession, scopes: readonly Scope[], code: string): void {
  const denied = scopes.find((sc) => !sessionPolicyAllows(session.policy, sc.action, sc.resource));
  if (denied !== undefined)
    throw new AwsError(
      code,
      `${session.sessionName} is not authorized to perform: ${denied.action} on resource: ${denied.resource} because no session policy allows it`,
      403,
    );
}
