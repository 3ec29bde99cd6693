/**
 * Startup checks (ops/startup-checks.ts): each finding names its fix; the files Airlock
 * creates are 0600 in a 0700 directory whatever the umask.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { knownActions, loadPolicy, openMasterKey, openStore } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/ops/log.js';
import {
  checkCredentials,
  checkFileModes,
  checkHoldWindow,
  checkRoutesReachable,
} from '../../src/ops/startup-checks.js';

const dir = mkdtempSync(join(tmpdir(), 'airlock-startup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function config(extra: string, dataDir = join(dir, 'data')) {
  const yaml = `data_dir: ${dataDir}
listen:
  aws: 127.0.0.1:0
  api: 127.0.0.1:0
aws:
  account_id: "123456789012"
policies:
  - ${resolve('test/fixtures/policies/gateway.cedar')}
${extra}`;
  return parseConfig(yaml, join(dir, 'airlock.yaml'));
}

describe('startup checks', () => {
  it('creates the store 0600 in a 0700 directory under a 022 umask, and finds nothing to say', async () => {
    const old = process.umask(0o022);
    try {
      const cfg = config('', join(dir, 'fresh', 'data'));
      const store = openStore(cfg, openMasterKey(cfg));
      await store.checkWritable();
      await store.close();
      assert.equal(statSync(cfg.dataDir).mode & 0o777, 0o700);
      assert.equal(statSync(join(cfg.dataDir, 'airlock.sqlite')).mode & 0o777, 0o600);
      assert.equal(statSync(join(cfg.dataDir, 'master.key')).mode & 0o777, 0o600);
      assert.deepEqual(checkFileModes(cfg), []);
    } finally {
      process.umask(old);
    }
  });

  it('says chmod for a data directory or store file open to others', async () => {
    const cfg = config('', join(dir, 'open', 'data'));
    const store = openStore(cfg, openMasterKey(cfg));
    await store.close();
    chmodSync(cfg.dataDir, 0o755);
    chmodSync(join(cfg.dataDir, 'airlock.sqlite'), 0o644);
    const found = checkFileModes(cfg);
    assert.deepEqual(
      found.map((p) => p.fix),
      [`chmod 700 ${cfg.dataDir}`, `chmod 600 ${join(cfg.dataDir, 'airlock.sqlite')}`],
    );
  });

  it('warns when the hold window reaches the 60 s client read timeout', () => {
    assert.deepEqual(checkHoldWindow(config('holds:\n  window_seconds: 50\n')), []);
    const [p] = checkHoldWindow(config('holds:\n  window_seconds: 60\n'));
    assert.match(p?.problem ?? '', /at or above the 60 s default read timeout of boto3 and the AWS CLI/);
    assert.match(p?.fix ?? '', /holds\.window_seconds below 60 .*--cli-read-timeout/);
  });

  it('names a resource route no policy reaches, and not one a policy reaches', async () => {
    const cfg = config(`resources:
  - arn: "arn:aws:dynamodb:*:123456789012:table/*"
    endpoint: http://127.0.0.1:1
  - arn: "arn:aws:sqs:*:123456789012:*"
    endpoint: http://127.0.0.1:2
`);
    const engine = await loadPolicy(cfg);
    const evaluate = (i: Parameters<typeof engine.evaluate>[0]) => engine.evaluate(i);
    assert.deepEqual(checkRoutesReachable(cfg, [], knownActions(), evaluate), [], 'no agents: nothing said');
    const found = checkRoutesReachable(cfg, ['billing-bot'], knownActions(), evaluate);
    assert.equal(found.length, 1);
    assert.match(found[0]?.problem ?? '', /route arn:aws:sqs:\*:123456789012:\* .* is reached by no policy/);
    assert.match(found[0]?.fix ?? '', /add a permit policy for arn:aws:sqs/);
  });

  it('warns, without failing, when the credential chain has nothing', async () => {
    const p = await checkCredentials(async () => {
      throw new Error('Could not load credentials from any providers');
    });
    assert.match(p?.problem ?? '', /no AWS credentials of its own \(Could not load credentials/);
    assert.match(p?.fix ?? '', /AWS_ACCESS_KEY_ID.*AWS_PROFILE/);
    const slow = await checkCredentials(() => new Promise(() => undefined), 50);
    assert.match(slow?.problem ?? '', /no answer in 50 ms/);
    assert.equal(await checkCredentials(async () => ({ accessKeyId: 'a', secretAccessKey: 'b' })), undefined);
  });

  it('renders pretty lines for a terminal and redacts secret-named fields', () => {
    let out = '';
    const sink = new Writable({
      write(c: Buffer, _e, done) {
        out += c.toString();
        done();
      },
    });
    const json = createLogger({ destination: sink });
    json.info({ token: 'alt_secret', nested: { password: 'pw' }, agent: 'bot' }, 'hello');
    const line = JSON.parse(out.trim()) as Record<string, unknown>;
    assert.equal(line.token, '[redacted]');
    assert.deepEqual(line.nested, { password: '[redacted]' });
    assert.equal(line.level, 'info');
    out = '';
    createLogger({ format: 'pretty', destination: sink }).warn({ agent: 'bot' }, 'careful');
    assert.match(out, /WARN.*careful/);
    assert.match(out, /\{"agent":"bot"\}\n$/, 'one line per event');
  });
});
