/**
 * Durability off the event loop. The store's connection commits with `synchronous = OFF`:
 * a commit hands its WAL frames to the operating system (they survive a crash of the
 * process, not of the machine) and returns without an fsync. This worker thread makes them
 * durable: it fdatasyncs the WAL file for every commit that asked, one fsync for all the
 * commits that asked while the previous one ran (group commit without waiting on a timer),
 * and the store resolves a write's promise only after an fsync that began after its commit.
 * So the durability rule (docs/ARCHITECTURE.md, "Store durability") holds as it did with
 * `synchronous = FULL`, while the event loop keeps serving requests during each fsync.
 *
 * Checkpoints move with it: the store's connection has `wal_autocheckpoint = 0` (with
 * synchronous OFF its checkpoints would not fsync the database file before the WAL is
 * reused); the worker runs PASSIVE checkpoints on its own connection with
 * `synchronous = FULL`, which syncs the WAL and then the database before marking frames
 * copied (https://www.sqlite.org/wal.html#ckpt, https://www.sqlite.org/pragma.html#pragma_synchronous).
 *
 * The worker is plain JavaScript evaluated from this file, so it runs the same under tsx
 * and from a build; it gets better-sqlite3's resolved path from here.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Requested commits, commits made durable, stop flag (Int32 slots of the shared buffer). */
const REQUESTED = 0;
const DURABLE = 1;
const STOP = 2;

/** Checkpoint once the WAL holds this much, at most once a second. */
const CHECKPOINT_BYTES = 4 * 1024 * 1024;

const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const Database = require(workerData.sqlite);
const state = new Int32Array(workerData.state);
const walPath = workerData.path + '-wal';
let fd;
let ino;
function walFd() {
  // The WAL file is replaced only if every connection closed; reopen it if that happened.
  const now = fs.statSync(walPath).ino;
  if (fd === undefined || ino !== now) {
    if (fd !== undefined) fs.closeSync(fd);
    const first = fd === undefined;
    fd = fs.openSync(walPath, 'r+');
    ino = now;
    if (first) {
      // The WAL's directory entry must be durable too (it was created when the store opened).
      const dir = fs.openSync(require('node:path').dirname(walPath), 'r');
      try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
    }
  }
  return fd;
}
let db;
let lastCheckpoint = 0;
function checkpoint(size) {
  if (size < ${CHECKPOINT_BYTES} || Date.now() - lastCheckpoint < 1000) return;
  lastCheckpoint = Date.now();
  try {
    if (db === undefined) {
      db = new Database(workerData.path);
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 0');
    }
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // A checkpoint that cannot run now (locked, full disk) is tried again later; commits
    // stay durable in the WAL meanwhile.
  }
}
for (;;) {
  const durable = Atomics.load(state, ${DURABLE});
  if (Atomics.load(state, ${REQUESTED}) === durable) {
    if (Atomics.load(state, ${STOP}) === 1) break;
    Atomics.wait(state, ${REQUESTED}, durable);
    continue;
  }
  const target = Atomics.load(state, ${REQUESTED});
  try {
    const f = walFd();
    fs.fdatasyncSync(f);
    Atomics.store(state, ${DURABLE}, target);
    parentPort.postMessage({ durable: target });
    checkpoint(fs.fstatSync(f).size);
  } catch (err) {
    Atomics.store(state, ${DURABLE}, target);
    parentPort.postMessage({ failed: target, message: String(err && err.message || err) });
  }
}
if (db !== undefined) db.close();
if (fd !== undefined) fs.closeSync(fd);
`;

interface Waiting {
  readonly seq: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class WalSync {
  private readonly state = new Int32Array(new SharedArrayBuffer(3 * 4));
  private readonly worker: Worker;
  private waiting: Waiting[] = [];
  private requested = 0;
  private closing = false;
  /** Set once the worker has stopped: nothing can be made durable any more. */
  private gone: Error | undefined;
  private readonly exited: Promise<void>;

  /** `path`: the database file (its WAL is `path-wal`). */
  constructor(path: string) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path, sqlite, state: this.state.buffer },
    });
    // The worker must not keep a finished process alive; pending waits hold the loop themselves.
    this.worker.unref();
    this.worker.on('message', (m: { durable?: number; failed?: number; message?: string }) => {
      if (m.durable !== undefined) this.settle(m.durable, undefined);
      else if (m.failed !== undefined)
        this.settle(m.failed, new Error(`could not make the write durable (fdatasync): ${m.message}`));
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        this.gone = new Error('the durability worker stopped');
        this.settle(Number.POSITIVE_INFINITY, this.gone);
        resolve();
      });
      this.worker.once('error', () => undefined);
    });
  }

  /** Resolves once every commit made before this call is on disk; rejects if it cannot be. */
  durable(): Promise<void> {
    if (this.gone !== undefined) return Promise.reject(this.gone);
    const seq = ++this.requested;
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ seq, resolve, reject });
      this.worker.ref();
      Atomics.store(this.state, REQUESTED, seq);
      Atomics.notify(this.state, REQUESTED);
    });
  }

  /** Why nothing can be made durable any more (the worker stopped), if so. */
  get stopped(): string | undefined {
    return this.gone?.message;
  }

  /** Makes what is committed durable, then stops the worker. */
  async close(): Promise<void> {
    // STOP first, then one more request: the worker syncs once more and, finding nothing
    // asked after that with STOP set, ends (never asleep on a value that will not change).
    this.closing = true;
    this.worker.ref();
    Atomics.store(this.state, STOP, 1);
    Atomics.store(this.state, REQUESTED, ++this.requested);
    Atomics.notify(this.state, REQUESTED);
    await this.exited;
  }

  private settle(upTo: number, err: Error | undefined): void {
    const done: Waiting[] = [];
    const rest: Waiting[] = [];
    for (const w of this.waiting) (w.seq <= upTo ? done : rest).push(w);
    this.waiting = rest;
    if (rest.length === 0 && !this.closing) this.worker.unref();
    for (const w of done) {
      if (err === undefined) w.resolve();
      else w.reject(err);
    }
  }
}
