import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { checkCheckpoints, type LedgerView } from '../../src/ledger/checkpoint-check.js';
import { publicKeyFileName, readCheckpointDir, writeCheckpoint } from '../../src/ledger/checkpoint-dir.js';
import { loadCheckpointKey } from '../../src/ledger/checkpoint-key.js';
import {
  CheckpointPublisher,
  LedgerMismatch,
  startCheckpoints,
} from '../../src/ledger/checkpoint-publisher.js';
import {
  type Checkpoint,
  checkpointJson,
  checkpointSignatureValid,
  keyIdOf,
  parseCheckpoint,
  signCheckpoint,
} from '../../src/ledger/checkpoints.js';
import { entryHash, GENESIS_HASH } from '../../src/ledger/hash-chain.js';
import type { LedgerEntry } from '../../src/ledger/store.js';

const root = mkdtempSync(join(tmpdir(), 'airlock-cp-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (what: string) => join(root, `${what}-${++n}`);

const ledgerKey = randomBytes(32);

/** An in-memory chain of `count` entries, hashed as the store hashes them. */
function chain(count: number, key = ledgerKey): LedgerEntry[] {
  const out: LedgerEntry[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const fields = {
      seq,
      at: new Date(1_900_000_000_000 + seq),
      kind: 'agent.created' as const,
      agent: `bot-${seq}`,
      approvalId: undefined,
      grantId: undefined,
      body: JSON.stringify({ seq }),
      prevHash: prev,
    };
    const hash = entryHash(key, fields);
    out.push({ ...fields, hash });
    prev = hash;
  }
  return out;
}

function view(entries: LedgerEntry[]): LedgerView {
  return {
    head: async () => {
      const last = entries.at(-1);
      return last === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: last.seq, hash: last.hash };
    },
    entryAt: async (seq) => entries.find((e) => e.seq === seq),
  };
}

const unsigned = (seq: number, hash: string, at = new Date('2030-01-01T00:00:00Z')) =>
  ({ version: 1, seq, hash, at }) as const;

describe('checkpoint signatures', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const c = signCheckpoint(unsigned(7, 'a'.repeat(64)), privateKey);

  it('verify under the signing key, and name it by the hash of its SPKI', () => {
    assert.equal(c.keyId, keyIdOf(publicKey));
    assert.match(c.keyId, /^[0-9a-f]{32}$/);
    assert.ok(checkpointSignatureValid(c, publicKey));
  });

  it('fail when seq, hash, time or key id changed, or under another key', () => {
    assert.ok(!checkpointSignatureValid({ ...c, seq: 8 }, publicKey));
    assert.ok(!checkpointSignatureValid({ ...c, hash: 'b'.repeat(64) }, publicKey));
    assert.ok(!checkpointSignatureValid({ ...c, at: new Date(c.at.getTime() + 1) }, publicKey));
    const other = generateKeyPairSync('ed25519');
    assert.ok(!checkpointSignatureValid(c, other.publicKey));
    assert.ok(!checkpointSignatureValid({ ...c, keyId: keyIdOf(other.publicKey) }, other.publicKey));
    assert.ok(!checkpointSignatureValid({ ...c, signature: 'AAAA' }, publicKey));
  });

  it('round-trip through the file form, which is refused when malformed', () => {
    assert.deepEqual(parseCheckpoint(checkpointJson(c)), c);
    assert.throws(() => parseCheckpoint('nope'), /not JSON/);
    assert.throws(() => parseCheckpoint(checkpointJson({ ...c, seq: -1 })), /bad seq/);
    assert.throws(() => parseCheckpoint(checkpointJson({ ...c, hash: 'xyz' })), /bad hash/);
    const v2 = JSON.stringify({ ...JSON.parse(checkpointJson(c)), version: 2 });
    assert.throws(() => parseCheckpoint(v2), /unknown version/);
  });
});

describe('checkpoint key file', () => {
  it('is created 0600 once, and the same key is read back', () => {
    const dir = fresh('data');
    const a = loadCheckpointKey(dir);
    assert.equal(statSync(join(dir, 'checkpoint.key')).mode & 0o777, 0o600);
    assert.equal(loadCheckpointKey(dir).keyId, a.keyId);
  });
});

describe('checkpoint directory', () => {
  const key = loadCheckpointKey(fresh('data'));

  it('publishes append-only: a name is never written twice; the key once', async () => {
    const dir = fresh('cps');
    const c = signCheckpoint(unsigned(3, 'c'.repeat(64)), key.privateKey);
    const name = await writeCheckpoint(dir, c, key.publicPem);
    assert.equal(name, `checkpoint-000000000003-${c.at.getTime()}.json`);
    await assert.rejects(writeCheckpoint(dir, c, key.publicPem), /EEXIST/);
    await writeCheckpoint(dir, signCheckpoint(unsigned(4, 'd'.repeat(64)), key.privateKey), key.publicPem);
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, [
      `checkpoint-000000000003-${c.at.getTime()}.json`,
      `checkpoint-000000000004-${c.at.getTime()}.json`,
      publicKeyFileName(key.keyId),
    ]);
    const read = await readCheckpointDir(dir);
    assert.deepEqual(
      read?.checkpoints.map((r) => r.checkpoint?.seq),
      [3, 4],
    );
    assert.ok(read?.keys.has(key.keyId));
  });

  it('does not trust a public key filed under another id', async () => {
    const dir = fresh('cps');
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
    await writeCheckpoint(dir, signCheckpoint(unsigned(1, 'e'.repeat(64)), key.privateKey), key.publicPem);
    writeFileSync(join(dir, publicKeyFileName(key.keyId)), other);
    const read = await readCheckpointDir(dir);
    assert.equal(read?.keys.size, 0);
    assert.match(read?.keyErrors[0] ?? '', /not the key its name says/);
  });
});

describe('holding a ledger to its checkpoints', () => {
  const key = loadCheckpointKey(fresh('data'));
  const entries = chain(5);
  const at = (seq: number) => entries[seq - 1] as LedgerEntry;
  async function publishAt(dir: string, seqs: number[], k = key): Promise<Checkpoint[]> {
    const out: Checkpoint[] = [];
    for (const [i, seq] of seqs.entries()) {
      const c = signCheckpoint(unsigned(seq, at(seq).hash, new Date(1_900_000_000_000 + i)), k.privateKey);
      await writeCheckpoint(dir, c, k.publicPem);
      out.push(c);
    }
    return out;
  }

  it('passes when the ledger still holds every checkpointed entry', async () => {
    const dir = fresh('cps');
    await publishAt(dir, [1, 3, 5]);
    const r = await checkCheckpoints(dir, view(entries), { localKeyId: key.keyId });
    assert.deepEqual(r.problems, []);
    assert.equal(r.matched, 3);
    assert.equal(r.last?.checkpoint.seq, 5);
  });

  it('names a cut tail, a rewritten chain and a missing directory', async () => {
    const dir = fresh('cps');
    await publishAt(dir, [2, 5]);
    const cut = await checkCheckpoints(dir, view(entries.slice(0, 3)));
    assert.equal(cut.problems.length, 1);
    assert.match(
      cut.problems[0] ?? '',
      /checkpoint-000000000005-.*records entry 5 .* the ledger ends at entry 3/,
    );
    const rewritten = await checkCheckpoints(dir, view(chain(5, randomBytes(32))));
    assert.equal(rewritten.problems.length, 2);
    assert.match(rewritten.problems[0] ?? '', /entry 2 has hash .* restarted under another master key/);
    const gone = await checkCheckpoints(fresh('missing'), view(entries));
    assert.match(gone.problems[0] ?? '', /no such checkpoint directory/);
  });

  it('names a change of signing key, a forged signature and a key the data dir does not hold', async () => {
    const dir = fresh('cps');
    await publishAt(dir, [1, 2]);
    const newKey = loadCheckpointKey(fresh('data'));
    await publishAt(dir, [4], newKey);
    const r = await checkCheckpoints(dir, view(entries), { localKeyId: key.keyId });
    assert.equal(r.problems.length, 2, r.problems.join('\n'));
    assert.match(
      r.problems[0] ?? '',
      new RegExp(`signed by key ${newKey.keyId}, earlier checkpoints by ${key.keyId}`),
    );
    assert.match(r.problems[1] ?? '', /the data directory's checkpoint key is .* recreated/);

    const forged = fresh('cps');
    const [c] = await publishAt(forged, [3]);
    const file = join(forged, readdirSync(forged).find((f) => f.endsWith('.json')) ?? '');
    writeFileSync(
      file,
      readFileSync(file, 'utf8')
        .replace(`"seq": 3`, `"seq": 4`)
        .replace(c?.hash ?? '', at(4).hash),
    );
    const f = await checkCheckpoints(forged, view(entries));
    assert.match(f.problems[0] ?? '', /signature does not verify/);
    const pinned = await checkCheckpoints(dir, view(entries), { trustedKey: key.publicKey });
    assert.match(
      pinned.problems.join('\n'),
      /checkpoint-000000000004-.*not signed by the trusted public key/,
    );
  });
});

describe('publishing while serving', () => {
  it('publishes only when the head moved', async () => {
    const entries = chain(2);
    const dir = fresh('cps');
    const p = new CheckpointPublisher(view(entries), loadCheckpointKey(fresh('data')), dir, () => undefined);
    assert.equal((await p.publish())?.seq, 2);
    assert.equal(await p.publish(), undefined);
    entries.push(...chain(3).slice(2));
    assert.equal((await p.publish())?.seq, 3);
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.json')).length, 2);
  });

  it('refuses to start on a cut ledger or another master key, with the fix in the message', async () => {
    const data = fresh('data');
    const dir = fresh('cps');
    const entries = chain(4);
    const first = await startCheckpoints(
      view(entries),
      ledgerKey,
      data,
      { dir, intervalSeconds: 3600 },
      () => undefined,
    );
    await first?.stop();
    await assert.rejects(
      startCheckpoints(
        view(entries.slice(0, 2)),
        ledgerKey,
        data,
        { dir, intervalSeconds: 3600 },
        () => undefined,
      ),
      (err: unknown) =>
        err instanceof LedgerMismatch &&
        /ledger ends at entry 2/.test(err.message) &&
        /restore .* from a backup/.test(err.message) &&
        /move the checkpoint directory aside/.test(err.message),
    );
    await assert.rejects(
      startCheckpoints(view(entries), randomBytes(32), data, undefined, () => undefined),
      /not written under this master key/,
    );
    const file = fresh('not-a-dir');
    writeFileSync(file, '');
    await assert.rejects(
      startCheckpoints(
        view(entries),
        ledgerKey,
        fresh('data'),
        { dir: join(file, 'cps'), intervalSeconds: 60 },
        () => undefined,
      ),
      /cannot read the checkpoint directory .*not-a-dir/,
    );
    // Accepting a new chain knowingly: an empty checkpoint directory.
    const again = await startCheckpoints(
      view(entries.slice(0, 2)),
      ledgerKey,
      data,
      { dir: fresh('cps'), intervalSeconds: 3600 },
      () => undefined,
    );
    await again?.stop();
  });
});
