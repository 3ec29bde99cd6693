/**
 * A CLI that helps: --version, per-command --help with flags and an example, "did you
 * mean" for commands and flags, a missing config that names --config and AIRLOCK_CONFIG,
 * and API auth errors that say what was wrong.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMMANDS } from '../../src/cli/help.js';
import { airlockCli } from '../support/cli.js';
import { type Harness, startHarness } from '../support/harness.js';

describe('airlock CLI help', () => {
  it('prints its version', async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const r = await airlockCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`^airlock ${pkg.version.replace(/\./g, '\\.')} \\(node `));
  });

  it('prints each command’s help with its flags and an example', async () => {
    const runs = await Promise.all(COMMANDS.map((c) => airlockCli([...c.name.split(' '), '--help'])));
    for (const [i, c] of COMMANDS.entries()) {
      const r = runs[i];
      assert.equal(r?.code, 0, c.name);
      assert.match(r?.stdout ?? '', new RegExp(`^usage: airlock ${c.name}`), c.name);
      assert.match(r?.stdout ?? '', /\nexample:\n {2}airlock /, c.name);
      for (const f of c.flags) assert.ok(r?.stdout.includes(f.flag), `${c.name}: ${f.flag}`);
    }
    const group = await airlockCli(['approvals', '--help']);
    assert.equal(group.code, 0);
    for (const sub of ['list', 'show', 'approve', 'deny'])
      assert.match(group.stdout, new RegExp(`airlock approvals ${sub}`));
    const top = await airlockCli(['--help']);
    assert.match(top.stdout, /Run airlock COMMAND --help/);
  });

  it('suggests the command or flag that was meant', async () => {
    const cmd = await airlockCli(['aprovals', 'list']);
    assert.equal(cmd.code, 2);
    assert.match(cmd.stderr, /unknown command: aprovals list; did you mean: airlock approvals list\?/);
    const sub = await airlockCli(['grants', 'revok', 'gr_1']);
    assert.match(sub.stderr, /did you mean: airlock grants revoke gr_1\?/);
    const whole = await airlockCli(['serv']);
    assert.match(whole.stderr, /did you mean: airlock serve\?/);
    const flag = await airlockCli(['agents', 'list', '--jsn']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown option --jsn; did you mean --json\?/);
    assert.match(flag.stderr, /usage: airlock agents list/);
    const far = await airlockCli(['frobnicate']);
    assert.match(far.stderr, /unknown command: frobnicate\nusage: airlock/);
  });

  it('names --config and AIRLOCK_CONFIG when the config is missing', async () => {
    const r = await airlockCli(['--config', '/nonexistent/airlock.yaml', 'agents', 'list']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no config file \/nonexistent\/airlock\.yaml \(named by --config\)/);
    assert.match(r.stderr, /--config FILE or AIRLOCK_CONFIG=FILE/);
    // airlockCli clears AIRLOCK_CONFIG; run the bin with it set.
    const env = await new Promise<{ stderr: string }>((res) =>
      execFile(
        process.execPath,
        [resolve('bin/airlock.js'), 'agents', 'list'],
        { env: { ...process.env, AIRLOCK_CONFIG: '/nonexistent/b.yaml' } },
        (_e, _o, stderr) => res({ stderr }),
      ),
    );
    assert.match(env.stderr, /no config file \/nonexistent\/b\.yaml \(named by AIRLOCK_CONFIG\)/);
  });
});

describe('airlock CLI auth errors', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => {
    await h.close();
  });
  const list = (token: string) =>
    airlockCli(['approvals', 'list'], { AIRLOCK_URL: h.airlock.apiUrl, AIRLOCK_TOKEN: token });

  it('says the token is unknown, the approver revoked, or that an agent key is no token', async () => {
    const unknown = await list(`alt_${'A'.repeat(32)}`);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /this approver token is not known here: .*check AIRLOCK_TOKEN and AIRLOCK_URL \(HTTP 401\)/,
    );

    const carol = h.approvers.carol ?? '';
    assert.equal((await list(carol)).code, 0);
    await h.airlock.store.revokeApprover('carol', new Date());
    const revoked = await list(carol);
    assert.match(revoked.stderr, /approver carol was revoked at \d{4}-.*its token no longer works/);

    const keyId = await list(h.agent.accessKeyId);
    assert.match(keyId.stderr, /that is an agent access key, not an approver token/);
    const secret = await list(h.agent.secretAccessKey);
    assert.match(secret.stderr, /that is an agent access key, not an approver token/);
    const junk = await list('hunter2');
    assert.match(junk.stderr, /not an approver token \(they start with alt_/);
  });
});
