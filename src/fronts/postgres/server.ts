/**
 * The Postgres front for one configured database: a TCP listener whose
 * connections each become a PgSession. Cancel keys are shared by all sessions of
 * the listener, since a CancelRequest arrives on a connection of its own.
 */
import net, { type AddressInfo } from 'node:net';
import type { Directory } from '../../access/directory.js';
import type { Recorder } from '../../access/recorder.js';
import type { Gate } from '../../approvals/gate.js';
import { CancelRegistry } from './cancel-registry.js';
import { loadParser } from './classify.js';
import { type PgDatabase, PgSession } from './session.js';
import { pinnedStartupParams } from './session-settings.js';
import { connectUpstream } from './upstream-connection.js';
import { upstreamRoleWarnings } from './upstream-role-check.js';

export interface PostgresFrontDeps {
  /** Agents by name (SCRAM), opened secrets (access/directory.ts). */
  readonly directory: Directory;
  readonly recorder: Recorder;
  readonly gate: Gate;
  readonly db: PgDatabase;
  readonly log: (line: string) => void;
  /** The process's cancel keys, shared by its Postgres fronts (and, through the store, by processes). */
  readonly cancels?: CancelRegistry | undefined;
}

export class PostgresFront {
  private readonly server: net.Server;
  private readonly sessions = new Set<PgSession>();
  private readonly cancels: CancelRegistry;

  constructor(private readonly deps: PostgresFrontDeps) {
    this.cancels = deps.cancels ?? new CancelRegistry(undefined, deps.log);
    this.server = net.createServer((socket) => {
      const s = new PgSession(socket, { ...deps, cancels: this.cancels });
      this.sessions.add(s);
      socket.once('close', () => this.sessions.delete(s));
    });
  }

  async listen(host: string, port: number): Promise<AddressInfo> {
    await loadParser();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.probing = this.probe();
    return this.server.address() as AddressInfo;
  }

  /** Stops accepting connections; open sessions go on until close(). */
  stopAccepting(): Promise<void> {
    this.server.close();
    return Promise.resolve();
  }

  /** Resolves once the startup check of the upstream role (and the catalog's first load) is done. */
  probing: Promise<void> = Promise.resolve();

  /**
   * At startup, in the background: warms the function catalog and warns when Airlock's
   * upstream role is more powerful than a gateway should be (upstream-role-check.ts).
   * An upstream that is down now is not an error here: sessions report it.
   */
  private async probe(): Promise<void> {
    const db = this.deps.db;
    try {
      const up = await connectUpstream(db.upstream, pinnedStartupParams());
      try {
        await db.catalog.get(up.socket);
        for (const w of await upstreamRoleWarnings(up.socket, db.upstream.user))
          this.deps.log(
            `postgres front ${db.name}: WARNING ${w}: give Airlock a least-privilege role (docs/POSTGRES.md, "The upstream role")`,
          );
      } finally {
        up.socket.destroy();
      }
    } catch (err) {
      this.deps.log(
        `postgres front ${db.name}: could not check the upstream role: ${(err as Error).message}`,
      );
    }
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get name(): string {
    return this.deps.db.name;
  }
}
