/**
 * Scoped AWS sessions: for resources configured with a `role_arn`, every grant
 * (and, for policy-allowed traffic, every agent and scope set) is signed with its
 * own STS AssumeRole session whose inline session policy allows exactly the
 * grant's actions on exactly its resources. Even a bug in Airlock then cannot
 * exceed what was approved, and CloudTrail names the grant (RoleSessionName),
 * the agent (SourceIdentity) and the approval (session tag) on every event.
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 *
 * Fail closed: when STS is unreachable or refuses, the request is refused;
 * it is never sent with Airlock's own, broader credentials.
 */
import { createHash } from 'node:crypto';
import { AssumeRoleCommand, type AssumeRoleCommandOutput, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { AwsSessionRef, Grant, Scope } from '../core/types.js';
import type { AssumedRoleConfig } from './assumed-role.js';
import type { CredentialSource } from './aws-credentials.js';
import {
  agentSessionName,
  isStsName,
  MAX_SESSION_POLICY_CHARS,
  MIN_SESSION_SECONDS,
  sessionPolicy,
  sessionSeconds,
} from './session-policy.js';
import { UpstreamError } from './upstream-error.js';

export interface ScopedSession {
  readonly credentials: AwsCredentialIdentity;
  readonly ref: AwsSessionRef;
}

/** What the session is for: a grant, or an agent's policy-allowed request. */
export type SessionSubject =
  | { readonly kind: 'grant'; readonly grant: Grant }
  | { readonly kind: 'agent'; readonly agent: string; readonly scopes: readonly Scope[] };

interface Cached {
  readonly session: ScopedSession;
  readonly grantId: string | undefined;
  /** Re-assume once this time has passed (a margin before the session expires). */
  readonly refreshAt: number;
}

/** Refresh this long before a session expires, so no request is signed with a dying session. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;

export class ScopedSessions {
  private readonly cache = new Map<string, Cached>();
  private readonly inflight = new Map<string, Promise<ScopedSession>>();
  private readonly clients = new Map<string, STSClient>();
  private readonly now: () => Date;

  constructor(
    private readonly credentials: CredentialSource,
    opts: { now?: () => Date } = {},
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Cached sessions (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }

  async sessionFor(role: AssumedRoleConfig, subject: SessionSubject): Promise<ScopedSession> {
    const key = cacheKey(role, subject);
    const hit = this.cache.get(key);
    if (hit !== undefined && this.now().getTime() < hit.refreshAt) return hit.session;
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = this.assume(role, subject).then(
        (session) => {
          this.inflight.delete(key);
          const expires = session.ref.expiresAt.getTime();
          const margin = Math.min(REFRESH_MARGIN_MS, (expires - this.now().getTime()) / 3);
          this.cache.set(key, {
            session,
            grantId: subject.kind === 'grant' ? subject.grant.id : undefined,
            refreshAt: expires - margin,
          });
          return session;
        },
        (err: unknown) => {
          this.inflight.delete(key);
          throw err;
        },
      );
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** Drops sessions of grants no longer live (revoked, expired, used up) and expired agent sessions. */
  async prune(isGrantLive: (grantId: string) => Promise<boolean>): Promise<void> {
    const now = this.now().getTime();
    for (const [key, c] of this.cache) {
      const dead =
        c.session.ref.expiresAt.getTime() <= now ||
        (c.grantId !== undefined && !(await isGrantLive(c.grantId)));
      if (dead) this.cache.delete(key);
    }
  }

  /** Forgets a grant's session at once (revocation in this process). */
  dropGrant(grantId: string): void {
    for (const [key, c] of this.cache) if (c.grantId === grantId) this.cache.delete(key);
  }

  close(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
    this.cache.clear();
  }

  private async assume(role: AssumedRoleConfig, subject: SessionSubject): Promise<ScopedSession> {
    const now = this.now();
    const agent = subject.kind === 'grant' ? subject.grant.agent : subject.agent;
    const scopes = subject.kind === 'grant' ? subject.grant.scopes : subject.scopes;
    const sessionName = subject.kind === 'grant' ? subject.grant.id : agentSessionName(agent);
    const remainingMs =
      subject.kind === 'grant'
        ? subject.grant.expiresAt.getTime() - now.getTime()
        : MIN_SESSION_SECONDS * 1000;
    if (!isStsName(sessionName) || !isStsName(agent)) {
      throw refused(`the session name ${sessionName} or agent name ${agent} is not a valid STS name`);
    }
    const policy = JSON.stringify(sessionPolicy(scopes));
    if (policy.length > MAX_SESSION_POLICY_CHARS) {
      // Never widen the policy to make it fit: ask for a narrower grant instead.
      throw refused(
        `the session policy for ${scopes.length} scopes is ${policy.length} characters; STS allows ${MAX_SESSION_POLICY_CHARS}. Request fewer resources per call.`,
      );
    }
    const tags = [{ Key: 'airlock-agent', Value: agent }];
    if (subject.kind === 'grant') {
      tags.push({ Key: 'airlock-approval', Value: subject.grant.approvalId });
      tags.push({ Key: 'airlock-grant', Value: subject.grant.id });
    }
    let out: AssumeRoleCommandOutput;
    try {
      out = await this.client(role).send(
        new AssumeRoleCommand({
          RoleArn: role.roleArn,
          RoleSessionName: sessionName,
          Policy: policy,
          DurationSeconds: sessionSeconds(remainingMs, role.maxSessionSeconds),
          SourceIdentity: agent,
          Tags: tags,
          ...(role.externalId === undefined ? {} : { ExternalId: role.externalId }),
        }),
      );
    } catch (err) {
      throw stsFailure(role, sessionName, err);
    }
    const c = out.Credentials;
    const user = out.AssumedRoleUser;
    const accessKeyId = c?.AccessKeyId;
    const secretAccessKey = c?.SecretAccessKey;
    const sessionToken = c?.SessionToken;
    const expiration = c?.Expiration;
    if (
      typeof accessKeyId !== 'string' ||
      typeof secretAccessKey !== 'string' ||
      typeof sessionToken !== 'string' ||
      !(expiration instanceof Date) ||
      typeof user?.Arn !== 'string'
    ) {
      throw refused(`STS answered AssumeRole for ${role.roleArn} without complete credentials`);
    }
    return {
      credentials: { accessKeyId, secretAccessKey, sessionToken, expiration },
      ref: {
        roleArn: role.roleArn,
        sessionArn: user.Arn,
        sessionName,
        sourceIdentity: agent,
        expiresAt: expiration,
      },
    };
  }

  private client(role: AssumedRoleConfig): STSClient {
    const key = `${role.stsRegion} ${role.stsEndpoint ?? ''}`;
    let c = this.clients.get(key);
    if (c === undefined) {
      c = new STSClient({
        region: role.stsRegion,
        credentials: this.credentials,
        maxAttempts: 2,
        ...(role.stsEndpoint === undefined ? {} : { endpoint: role.stsEndpoint }),
      });
      this.clients.set(key, c);
    }
    return c;
  }
}

/** A grant whose session may still be used: present, not revoked, not expired, uses left. */
export function grantIsLive(grant: Grant | undefined, now: Date): boolean {
  return (
    grant !== undefined &&
    grant.revokedAt === undefined &&
    grant.expiresAt > now &&
    (grant.maxUses === undefined || grant.uses < grant.maxUses)
  );
}

function cacheKey(role: AssumedRoleConfig, subject: SessionSubject): string {
  if (subject.kind === 'grant') return `${role.roleArn}\ngrant\n${subject.grant.id}`;
  const scopes = JSON.stringify(sessionPolicy(subject.scopes));
  return `${role.roleArn}\nagent\n${subject.agent}\n${createHash('sha256').update(scopes).digest('hex')}`;
}

function refused(detail: string): UpstreamError {
  return new UpstreamError('refused', `Airlock could not open a scoped AWS session: ${detail}`);
}

/** STS answered with an error (refused) or never answered (unreachable): both fail closed. */
function stsFailure(role: AssumedRoleConfig, sessionName: string, err: unknown): UpstreamError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (e.$metadata?.httpStatusCode !== undefined) {
    return refused(
      `STS refused AssumeRole of ${role.roleArn} for session ${sessionName}: ${e.name ?? 'Error'}: ${e.message ?? ''}`,
    );
  }
  return new UpstreamError(
    'unavailable',
    `Airlock could not reach STS to open a scoped session of ${role.roleArn}: ${e.message ?? String(err)}. The request was not sent.`,
  );
}
