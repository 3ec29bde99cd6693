/**
 * The Postgres front for one configured database: a TCP listener whose
 * connections each become a PgSession. Cancel keys are shared by all sessions of
 * the listener, since a CancelRequest arrives on a connection of its own.
 */
import net, { type AddressInfo } from 'node:net';
import type { Recorder } from '../../access/recorder.js';
import type { Gate } from '../../approvals/gate.js';
import type { MasterKey } from '../../core/secrets.js';
import type { Store } from '../../ledger/store.js';
import { CancelRegistry } from './cancel-registry.js';
import { loadParser } from './classify.js';
import { type PgDatabase, PgSession } from './session.js';

export interface PostgresFrontDeps {
  readonly store: Store;
  readonly recorder: Recorder;
  readonly masterKey: MasterKey;
  readonly gate: Gate;
  readonly db: PgDatabase;
  readonly log: (line: string) => void;
}

export class PostgresFront {
  private readonly server: net.Server;
  private readonly sessions = new Set<PgSession>();
  private readonly cancels = new CancelRegistry();

  constructor(private readonly deps: PostgresFrontDeps) {
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
    return this.server.address() as AddressInfo;
  }

  /** Stops accepting connections; open sessions go on until close(). */
  stopAccepting(): Promise<void> {
    this.server.close();
    return Promise.resolve();
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  get name(): string {
    return this.deps.db.name;
  }
}
