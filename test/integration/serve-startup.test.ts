/**
 * `airlock serve` as an operator starts it with no AWS credentials, a hold window past the
 * clients' read timeout and a route no policy reaches: it starts anyway and logs one JSON
 * warning per problem, each with its fix.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { airlockCli, writeCliConfig } from '../support/cli.js';
import { PROCESS_START_MS } from '../support/timing.js';

const BIN = resolve('bin/airlock.js');

describe('airlock serve startup checks', () => {
  const c = writeCliConfig(`holds:
  window_seconds: 90
resources:
  - arn: "arn:aws:sqs:*:123456789012:*"
    endpoint: http://127.0.0.1:9
`);
  after(() => rmSync(c.dir, { recursive: true, force: true }));

  it('warns with the fix, and still serves', async () => {
    assert.equal((await airlockCli(['--config', c.config, 'agents', 'create', 'bot'])).code, 0);
    const env: Record<string, string | undefined> = {
      ...process.env,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    };
    for (const k of Object.keys(env))
      if (/^AWS_(ACCESS|SECRET|SESSION|PROFILE|WEB_IDENTITY|CONTAINER|ROLE)/.test(k)) delete env[k];
    delete env.AIRLOCK_MASTER_KEY;
    const child = spawn(process.execPath, [BIN, '--config', c.config, 'serve'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    try {
      const deadline = Date.now() + PROCESS_START_MS;
      while (!/aws-credentials/.test(out) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.match(err, /AWS front http:\/\/127\.0\.0\.1:\d+, API http:/, 'it serves');
      const warnings = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.event === 'startup');
      const byCheck = new Map(warnings.map((w) => [w.check, w]));
      assert.deepEqual([...byCheck.keys()].sort(), ['aws-credentials', 'hold-window', 'route-unreachable']);
      for (const w of warnings) {
        assert.equal(w.level, 'warn');
        assert.ok(String(w.fix).length > 10);
      }
      assert.match(String(byCheck.get('aws-credentials')?.msg), /fix: give the airlock process credentials/);
      assert.match(String(byCheck.get('hold-window')?.fix), /below 60/);
    } finally {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }
  });
});
