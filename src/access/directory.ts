/**
 * Who an agent is, for the fronts: the part of "authenticate the agent" that needs the
 * store and the master key. A front asks by access key (SigV4) or by name (Postgres
 * SCRAM) and gets an active agent's name and opened secret, or nothing; it never sees
 * the store or a sealed secret. Grants are looked up here too, for scoped sessions.
 */
import type { MasterKey } from '../core/secrets.js';
import type { Grant } from '../core/types.js';
import type { Store } from '../ledger/store.js';

/** The store could not be read: the front refuses (503 / 57P03) rather than guess who the agent is. */
export class DirectoryUnavailable extends Error {
  override readonly name = 'DirectoryUnavailable';
}

export interface KnownAgent {
  readonly name: string;
  readonly accessKeyId: string;
  /** The opened secret: kept in memory only, never logged or recorded. */
  readonly secret: string;
}

export interface Directory {
  /** The active agent holding this access key id; undefined when unknown or revoked. */
  agentByAccessKey(accessKeyId: string): Promise<KnownAgent | undefined>;
  /** The active agent of this name; undefined when unknown or revoked. */
  agentByName(name: string): Promise<KnownAgent | undefined>;
  grant(id: string): Promise<Grant | undefined>;
}

export class StoreDirectory implements Directory {
  constructor(
    private readonly store: Store,
    private readonly masterKey: MasterKey,
  ) {}

  async agentByAccessKey(accessKeyId: string): Promise<KnownAgent | undefined> {
    return this.open(await this.read(() => this.store.agentByAccessKey(accessKeyId)));
  }

  async agentByName(name: string): Promise<KnownAgent | undefined> {
    return this.open(await this.read(() => this.store.agentByName(name)));
  }

  grant(id: string): Promise<Grant | undefined> {
    return this.read(() => this.store.getGrant(id));
  }

  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new DirectoryUnavailable(
        `Airlock cannot read its store now (${(err as Error).message}); nothing was forwarded, retry`,
        { cause: err },
      );
    }
  }

  private open(a: Awaited<ReturnType<Store['agentByName']>>): KnownAgent | undefined {
    if (a === undefined || a.revokedAt !== undefined) return undefined;
    // Memoized by ciphertext in MasterKey: the hot path does not pay AES-GCM per request.
    return {
      name: a.name,
      accessKeyId: a.accessKeyId,
      secret: this.masterKey.unseal(a.sealedSecret, a.accessKeyId),
    };
  }
}
