/**
 * The Postgres front for one configured database: a TCP listener whose
 * connections each become a PgSession. Cancel keys are shared by all sessions of
 * the listener, since a CancelRequest arrives on a connection of its own.
 */
import net, { type AddressInfo } from 'node:net';
import type { Gate } from '../../approvals/gate.js';
import type { MasterKey } from '../../core/secrets.js';
import type { Store } from '../../ledger/store.js';
import { CancelRegistry } from './cancel-registry.js';
import { loadParser } from './classify.js';
import { type PgDatabase, PgSession } from './session.js';
import { StatementRecorder } from './statement-recorder.js';

export interface PostgresFrontDeps {
  readonly store: Store;
  readonly masterKey: MasterKey;
  readonly gate: Gate;
  readonly db: PgDatabase;
  readonly log: (line: string) => void;
}

export class PostgresFront {
  private readonly server: net.Server;
  private readonly sessions = new Set<PgSession>();
  private readonly cancels = new CancelRegistry();
  private readonly recorder: StatementRecorder;

  constructor(private readonly deps: PostgresFrontDeps) {
    this.recorder = new StatementRecorder(deps.store, deps.log);
    this.server = net.createServer((socket) => {
      const s = new PgSession(socket, { ...deps, cancels: this.cancels, recorder: this.recorder });
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

  async close(): Promise<void> {
    for (const s of this.sessions) s.close();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.recorder.flush();
  }

  get name(): string {
    return this.deps.db.name;
  }
}
