/**
 * The Ed25519 key that signs ledger checkpoints (checkpoints.ts). Kept in its own
 * file, `data_dir/checkpoint.key` (PKCS#8 PEM, mode 0600), apart from master.key:
 * it is a signing identity, not a secret that data depends on, so it can be moved
 * to other custody later without re-keying the ledger. A data directory recreated
 * from scratch gets a new key, and a new key id in every checkpoint it publishes.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { keyIdOf } from './checkpoints.js';

export const CHECKPOINT_KEY_FILE = 'checkpoint.key';

export interface CheckpointKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;
  /** SPKI PEM of the public key, as published beside the checkpoints. */
  readonly publicPem: string;
}

/** Loads data_dir/checkpoint.key, creating it (0600) on first use. Refuses a key readable by others. */
export function loadCheckpointKey(dataDir: string): CheckpointKey {
  const file = join(dataDir, CHECKPOINT_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    try {
      writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      // Another process created it first: use theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return readCheckpointKey(file);
}

/** Reads an existing key without creating one (audit verify must not mint identities). */
export function existingCheckpointKey(dataDir: string): CheckpointKey | undefined {
  const file = join(dataDir, CHECKPOINT_KEY_FILE);
  return existsSync(file) ? readCheckpointKey(file) : undefined;
}

function readCheckpointKey(file: string): CheckpointKey {
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(`${file} is readable by group/others (mode ${mode.toString(8)}); fix: chmod 600 ${file}`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not a PEM private key: ${(err as Error).message}`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 key`);
  chmodSync(file, 0o600);
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    publicKey,
    keyId: keyIdOf(publicKey),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}
