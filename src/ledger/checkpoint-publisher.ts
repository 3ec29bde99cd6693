/**
 * Publishing checkpoints while `serve` runs: one at start (once the ledger was found
 * to match the last one), one every interval when the head moved, one on shutdown.
 * Publications are serialized, so the timer and shutdown never write at once.
 * A failed publication is logged and retried at the next tick; it does not stop
 * traffic (the store, not the checkpoint directory, is what requests depend on).
 */

import { checkCheckpoints, type LedgerView } from './checkpoint-check.js';
import { writeCheckpoint } from './checkpoint-dir.js';
import { type CheckpointKey, loadCheckpointKey } from './checkpoint-key.js';
import { CHECKPOINT_VERSION, type Checkpoint, signCheckpoint } from './checkpoints.js';
import { type ChainHead, entryHash } from './hash-chain.js';

export interface CheckpointSettings {
  /** Where checkpoints are published (config `audit.checkpoints.dir`). */
  readonly dir: string;
  readonly intervalSeconds: number;
}

/** Thrown at start when the data directory's ledger does not match the record; the message says how to fix it. */
export class LedgerMismatch extends Error {
  override readonly name = 'LedgerMismatch';
}

export class CheckpointPublisher {
  private published: ChainHead | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ledger: Pick<LedgerView, 'head'>,
    private readonly key: CheckpointKey,
    private readonly dir: string,
    private readonly log: (line: string) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Publishes the current head unless the last publication already covers it. */
  publish(): Promise<Checkpoint | undefined> {
    const run = this.queue.then(async () => {
      const head = await this.ledger.head();
      if (this.published?.seq === head.seq && this.published.hash === head.hash) return undefined;
      const c = signCheckpoint(
        { version: CHECKPOINT_VERSION, seq: head.seq, hash: head.hash, at: this.now() },
        this.key.privateKey,
      );
      await writeCheckpoint(this.dir, c, this.key.publicPem);
      this.published = head;
      return c;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Marks a head as already published (the newest checkpoint found at start). */
  covered(head: ChainHead): void {
    this.published = head;
  }

  start(intervalSeconds: number): void {
    this.timer = setInterval(() => {
      this.publish().catch((e: unknown) =>
        this.log(`checkpoint: could not publish to ${this.dir}: ${(e as Error).message}`),
      );
    }, intervalSeconds * 1000);
    this.timer.unref();
  }

  /** Stops the timer and publishes the final head (call after the fronts stopped writing). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.publish();
  }
}

/**
 * The start-up check and publisher for `serve`. Refuses (LedgerMismatch) when the
 * ledger's last entry was not written under this master key, or when the ledger no
 * longer holds the newest published checkpoint. Without `settings`, only the first.
 */
export async function startCheckpoints(
  ledger: LedgerView,
  ledgerKey: Buffer,
  dataDir: string,
  settings: CheckpointSettings | undefined,
  log: (line: string) => void,
): Promise<CheckpointPublisher | undefined> {
  const head = await ledger.head();
  const last = head.seq === 0 ? undefined : await ledger.entryAt(head.seq);
  if (last !== undefined && entryHash(ledgerKey, last) !== last.hash) {
    throw new LedgerMismatch(
      `the ledger in ${dataDir} was not written under this master key (entry ${last.seq} does not verify). ` +
        'Fix: start with the master key it was written with (data_dir/master.key or AIRLOCK_MASTER_KEY from backup); ' +
        'run `airlock audit verify` to see whether the ledger itself was changed',
    );
  }
  if (settings === undefined) return undefined;
  const key = loadCheckpointKey(dataDir);
  const check = await checkCheckpoints(settings.dir, ledger, { lastOnly: true, localKeyId: key.keyId }).catch(
    (err: unknown) => {
      throw new Error(`cannot read the checkpoint directory ${settings.dir}: ${(err as Error).message}`);
    },
  );
  // No checkpoint yet (first start with checkpoints configured): nothing to hold the ledger to.
  if (check.files > 0 && check.problems.length > 0) {
    throw new LedgerMismatch(
      `the ledger in ${dataDir} does not match the last checkpoint in ${settings.dir}: ${check.problems.join('; ')}. ` +
        `Fix: restore ${dataDir} (airlock.sqlite, master.key, checkpoint.key) from a backup taken after that checkpoint; ` +
        `or, to knowingly start a new chain, move the checkpoint directory aside (mv ${settings.dir} ${settings.dir}.old) and start again`,
    );
  }
  const publisher = new CheckpointPublisher(ledger, key, settings.dir, log);
  const newest = check.last?.checkpoint;
  if (newest !== undefined) publisher.covered({ seq: newest.seq, hash: newest.hash });
  // At start a directory that cannot be written is a configuration error: say so now,
  // rather than serve for hours with no checkpoint being kept.
  await publisher.publish().catch((err: unknown) => {
    throw new Error(`cannot publish checkpoints to ${settings.dir}: ${(err as Error).message}`);
  });
  publisher.start(settings.intervalSeconds);
  return publisher;
}
