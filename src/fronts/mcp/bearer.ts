/**
 * The agent's Airlock credential as an HTTP bearer token (docs/MCP.md, "Authentication"):
 * `Authorization: Bearer ACCESS_KEY_ID:SECRET_ACCESS_KEY`, the same key pair the agent
 * uses with the AWS front. Verified against the agent record's sealed secret, compared
 * in constant time. The token is never logged or recorded.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Directory } from '../../access/directory.js';

const TOKEN_RE = /^Bearer ([A-Z0-9]{16,128}):(\S{1,256})$/;

export type BearerResult =
  | { readonly ok: true; readonly agent: string }
  | { readonly ok: false; readonly why: string };

export async function verifyBearer(header: string | undefined, directory: Directory): Promise<BearerResult> {
  if (header === undefined || header === '')
    return { ok: false, why: 'missing Authorization: Bearer ACCESS_KEY_ID:SECRET (docs/MCP.md)' };
  const m = TOKEN_RE.exec(header);
  if (m === null || m[1] === undefined || m[2] === undefined)
    return { ok: false, why: 'the bearer token must be ACCESS_KEY_ID:SECRET (docs/MCP.md)' };
  const agent = await directory.agentByAccessKey(m[1]);
  if (agent === undefined) return { ok: false, why: 'invalid credential' };
  const secret = agent.secret;
  // Hashes first: equal lengths for timingSafeEqual, and no length leak of the secret.
  const a = createHash('sha256').update(m[2]).digest();
  const b = createHash('sha256').update(secret).digest();
  if (!timingSafeEqual(a, b)) return { ok: false, why: 'invalid credential' };
  return { ok: true, agent: agent.name };
}
