/**
 * Admin operations on the local store (run by `airlock agents|approvers ...` on the
 * gateway host, by the demo and by tests). Secrets are returned once and never stored in clear.
 */
import { hashToken, type MasterKey, newAccessKeyPair, newApproverToken } from './core/secrets.js';
import type { Store } from './ledger/store.js';

const NAME_RE = /^[a-z][a-z0-9_-]{1,62}$/;

export class AdminError extends Error {
  override readonly name = 'AdminError';
}

export async function createAgent(
  store: Store,
  key: MasterKey,
  name: string,
): Promise<{ name: string; accessKeyId: string; secretAccessKey: string }> {
  if (!NAME_RE.test(name)) throw new AdminError(`agent name must match ${NAME_RE} (e.g. billing-bot)`);
  if ((await store.agentByName(name)) !== undefined) throw new AdminError(`agent ${name} already exists`);
  if ((await store.listApprovers()).some((a) => a.name === name)) {
    throw new AdminError(`${name} is an approver; an approver identity cannot also be an agent`);
  }
  const pair = newAccessKeyPair();
  await store.createAgent({
    name,
    accessKeyId: pair.accessKeyId,
    sealedSecret: key.seal(pair.secretAccessKey, pair.accessKeyId),
    createdAt: new Date(),
    revokedAt: undefined,
  });
  return { name, ...pair };
}

export async function createApprover(
  store: Store,
  name: string,
  groups: readonly string[],
): Promise<{ name: string; groups: readonly string[]; token: string }> {
  if (!NAME_RE.test(name)) throw new AdminError(`approver name must match ${NAME_RE} (e.g. alice)`);
  if (groups.length === 0 || groups.some((g) => !NAME_RE.test(g))) {
    throw new AdminError('give at least one group with --groups G[,G...] (lower-case names)');
  }
  if ((await store.agentByName(name)) !== undefined) {
    throw new AdminError(`${name} is an agent; an agent identity cannot also be an approver`);
  }
  const token = newApproverToken();
  await store.createApprover({
    name,
    groups,
    tokenHash: hashToken(token),
    createdAt: new Date(),
    revokedAt: undefined,
  });
  return { name, groups, token };
}
