/**
 * A checkpoint directory: where signed checkpoints are published, outside the store.
 *
 *   checkpoint-<seq, 12 digits>-<epoch ms>.json   one per publication, never rewritten
 *   checkpoint-key-<key id>.pem                   the public key that verifies them
 *
 * Files are written atomically and durably: a temporary file is written and fsynced,
 * hard-linked to its final name (link(2) fails when the name exists, so a published
 * file is never replaced), unlinked, and the directory fsynced. Names sort by seq, so
 * the newest checkpoint is the last name. Point `dir` at storage the gateway's own
 * host cannot rewrite (a mount of another host, a synced bucket with object lock).
 */
import { createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Checkpoint, checkpointJson, keyIdOf, parseCheckpoint } from './checkpoints.js';

const CHECKPOINT_RE = /^checkpoint-(\d{12})-(\d+)\.json$/;
const KEY_RE = /^checkpoint-key-([0-9a-f]{32})\.pem$/;

export function checkpointFileName(c: Checkpoint): string {
  return `checkpoint-${String(c.seq).padStart(12, '0')}-${c.at.getTime()}.json`;
}

export function publicKeyFileName(keyId: string): string {
  return `checkpoint-key-${keyId}.pem`;
}

/** Publishes `c` (and its public key, once). Returns the checkpoint's file name. */
export async function writeCheckpoint(dir: string, c: Checkpoint, publicPem: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const keyName = publicKeyFileName(c.keyId);
  await writeOnce(dir, keyName, publicPem, true);
  const name = checkpointFileName(c);
  await writeOnce(dir, name, checkpointJson(c), false);
  return name;
}

async function writeOnce(dir: string, name: string, text: string, existingIsFine: boolean): Promise<void> {
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, join(dir, name));
  } catch (err) {
    if (!(existingIsFine && (err as NodeJS.ErrnoException).code === 'EEXIST')) throw err;
  } finally {
    await unlink(tmp);
  }
  await syncDir(dir);
}

/** A rename or link is durable only once its directory is (fsync(2), "Notes"). */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export interface ReadCheckpoint {
  readonly file: string;
  readonly checkpoint?: Checkpoint;
  /** Why the file is not a checkpoint (unreadable, malformed). */
  readonly error?: string;
}

export interface CheckpointDir {
  /** In seq order, then time. */
  readonly checkpoints: readonly ReadCheckpoint[];
  /** Public keys found, by the id computed from the key itself (a misnamed file is not trusted). */
  readonly keys: ReadonlyMap<string, KeyObject>;
  /** Files named like keys that are not, or whose name does not match their id. */
  readonly keyErrors: readonly string[];
}

/** Undefined when the directory does not exist. */
export async function readCheckpointDir(
  dir: string,
  opts: { lastOnly?: boolean } = {},
): Promise<CheckpointDir | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const keys = new Map<string, KeyObject>();
  const keyErrors: string[] = [];
  for (const name of names) {
    const m = KEY_RE.exec(name);
    if (m === null) continue;
    try {
      const key = createPublicKey(await readFile(join(dir, name), 'utf8'));
      const id = keyIdOf(key);
      if (key.asymmetricKeyType !== 'ed25519') keyErrors.push(`${name}: not an Ed25519 public key`);
      else if (id !== m[1]) keyErrors.push(`${name}: holds key ${id}, not the key its name says`);
      else keys.set(id, key);
    } catch (err) {
      keyErrors.push(`${name}: not a PEM public key (${(err as Error).message})`);
    }
  }
  let files = names.filter((n) => CHECKPOINT_RE.test(n)).sort(byPosition);
  if (opts.lastOnly === true) files = files.slice(-1);
  const checkpoints: ReadCheckpoint[] = [];
  for (const file of files) {
    try {
      checkpoints.push({ file, checkpoint: parseCheckpoint(await readFile(join(dir, file), 'utf8')) });
    } catch (err) {
      checkpoints.push({ file, error: (err as Error).message });
    }
  }
  return { checkpoints, keys, keyErrors };
}

/** By seq, then by time (both numeric, so a 13- and a 14-digit time still sort right). */
function byPosition(a: string, b: string): number {
  const ma = CHECKPOINT_RE.exec(a);
  const mb = CHECKPOINT_RE.exec(b);
  return Number(ma?.[1]) - Number(mb?.[1]) || Number(ma?.[2]) - Number(mb?.[2]);
}
