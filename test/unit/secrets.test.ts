import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hashToken, MasterKey, newAccessKeyPair } from '../../src/core/secrets.js';

describe('secrets', () => {
  it('seals and unseals, bound to its owner', () => {
    const k = MasterKey.fromBytes(randomBytes(32));
    const sealed = k.seal('s3cret', 'ALAKOWNER');
    assert.ok(!sealed.includes('s3cret'));
    assert.equal(k.unseal(sealed, 'ALAKOWNER'), 's3cret');
    assert.throws(() => k.unseal(sealed, 'ALAKOTHER'));
    assert.throws(() => MasterKey.fromBytes(randomBytes(32)).unseal(sealed, 'ALAKOWNER'));
  });
  it('creates the key file 0600 on first run and refuses a readable one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'airlock-key-'));
    try {
      const file = join(dir, 'sub', 'master.key');
      const a = MasterKey.load({ env: undefined, keyFile: file });
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const b = MasterKey.load({ env: undefined, keyFile: file });
      assert.equal(b.unseal(a.seal('x', 'id'), 'id'), 'x');
      chmodSync(file, 0o644);
      assert.throws(() => MasterKey.load({ env: undefined, keyFile: file }), /chmod 600/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('takes AIRLOCK_MASTER_KEY and rejects a short one', () => {
    assert.ok(MasterKey.load({ env: randomBytes(32).toString('base64'), keyFile: '/nonexistent' }));
    assert.throws(() => MasterKey.load({ env: 'c2hvcnQ=', keyFile: '/nonexistent' }), /32 bytes/);
  });
  it('issues distinct AWS-shaped key pairs and hashes tokens', () => {
    const a = newAccessKeyPair();
    const b = newAccessKeyPair();
    assert.match(a.accessKeyId, /^ALAK[A-Z2-7]{16}$/);
    assert.equal(a.secretAccessKey.length, 40);
    assert.notEqual(a.accessKeyId, b.accessKeyId);
    assert.equal(hashToken('t').length, 64);
  });
});
