/**
 * Admin operations on the local store (run by `airlock agents|approvers ...` on the
 * gateway host, by the demo and by tests). Secrets are returned once and never stored in clear.
 */
import { hashToken, type MasterKey, newAccessKeyPair, newApproverToken } from './core/secrets.js';
import { type Store, StoreConflict } from './ledger/store.js';

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
  // The checks above give the friendly message; the store repeats the cross-kind name
  // check inside its write transaction, where a concurrent create cannot slip past it.
  await conflictsAsAdminErrors(() =>
    store.createAgent({
      name,
      accessKeyId: pair.accessKeyId,
      sealedSecret: key.seal(pair.secretAccessKey, pair.accessKeyId),
      createdAt: new Date(),
      revokedAt: undefined,
    }),
  );
  return { name, ...pair };
}

export async function createApprover(
  store: Store,
  name: string,
  groups: readonly string[],
): Promise<{ name: string; groups: readonly string[]; token: string }> {
  if (!NAME_RE.test(name)) throw new AdminError(`approver name must match ${NAME_RE} (e.g. alice)`);
  if ((await store.agentByName(name)) !== undefined) {
    throw new AdminError(`${name} is an agent; an agent identity cannot also be an approver`);
  }
  checkGroups(groups);
  const token = newApproverToken();
  await conflictsAsAdminErrors(() =>
    store.createApprover({
      name,
      groups,
      tokenHash: hashToken(token),
      createdAt: new Date(),
      revokedAt: undefined,
    }),
  );
  return { name, groups, token };
}

/** Replaces a local approver's groups (recorded as approver.updated). */
export async function setApproverGroups(
  store: Store,
  name: string,
  groups: readonly string[],
): Promise<void> {
  checkGroups(groups);
  if (!(await store.setApproverGroups(name, groups, new Date()))) {
    throw new AdminError(
      `no active local approver named ${name} (SSO approvers get their groups from the identity provider)`,
    );
  }
}

/** Issues a new API token; the old one stops working at once. Returns the new token (shown once). */
export async function rotateApproverToken(store: Store, name: string): Promise<string> {
  const token = newApproverToken();
  if (!(await store.rotateApproverToken(name, hashToken(token), new Date()))) {
    throw new AdminError(`no active local approver named ${name} (SSO approvers have no API token)`);
  }
  return token;
}

function checkGroups(groups: readonly string[]): void {
  if (groups.length === 0 || groups.some((g) => !NAME_RE.test(g))) {
    throw new AdminError('give at least one group with --groups G[,G...] (lower-case names)');
  }
}

async function conflictsAsAdminErrors(write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (err) {
    if (err instanceof StoreConflict) throw new AdminError(err.message);
    throw err;
  }
}
