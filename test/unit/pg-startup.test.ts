import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PgError } from '../../src/fronts/postgres/pg-error.js';
import {
  applicationNameReason,
  commandLineOptions,
  isParsableEncoding,
  parseSearchPath,
  readStartup,
  statementReason,
} from '../../src/fronts/postgres/startup-options.js';
import { passwordProvider } from '../../src/upstream/pg-password.js';

describe('startup options and reasons', () => {
  it('parses -c options with backslash escapes and takes airlock.reason for Airlock', () => {
    assert.deepEqual(commandLineOptions('-c airlock.reason=fix\\ INC-1 --search-path=a'), [
      ['airlock.reason', 'fix INC-1'],
      ['search_path', 'a'],
    ]);
    const s = readStartup(
      new Map([
        ['user', 'bot'],
        ['database', 'app'],
        ['application_name', 'psql'],
        ['options', '-c airlock.reason=why'],
      ]),
    );
    assert.equal(s.reason, 'why');
    assert.deepEqual([...s.forward], [['application_name', 'psql']]);
  });

  it('refuses settings that would change the upstream identity', () => {
    for (const params of [
      [
        ['user', 'bot'],
        ['options', '-c role=admin'],
      ],
      [
        ['user', 'bot'],
        ['options', '-c session_authorization=postgres'],
      ],
      [
        ['user', 'bot'],
        ['role', 'admin'],
      ],
      [
        ['user', 'bot'],
        ['replication', 'database'],
      ],
      [
        ['user', 'bot'],
        ['options', '-dsomething'],
      ],
    ] as Array<Array<[string, string]>>)
      assert.throws(
        () => readStartup(new Map(params)),
        (e: PgError) => e instanceof PgError && e.severity === 'FATAL',
      );
    assert.throws(() => readStartup(new Map()), /no user name/);
  });

  it('reads a search_path as PostgreSQL does: unquoted names fold, quoted ones are exact', () => {
    assert.deepEqual(parseSearchPath('PUBLIC'), ['public']);
    assert.deepEqual(parseSearchPath(' "$user" , Scratch,"My ""Schema"""'), [
      '$user',
      'scratch',
      'My "Schema"',
    ]);
    assert.deepEqual(parseSearchPath('"a,b"'), ['a,b']);
    assert.deepEqual(parseSearchPath(''), []);
    for (const bad of ['a,,b', 'a b', '"open', 'a,']) assert.throws(() => parseSearchPath(bad), PgError, bad);
    assert.throws(
      () =>
        readStartup(
          new Map([
            ['user', 'a'],
            ['search_path', 'a b'],
          ]),
        ),
      PgError,
    );
  });

  it('accepts only client encodings Airlock reads byte for byte as PostgreSQL does', () => {
    for (const ok of ['UTF8', 'utf-8', 'Unicode', 'SQL_ASCII']) assert.ok(isParsableEncoding(ok), ok);
    for (const bad of ['SJIS', 'BIG5', 'GBK', 'LATIN1', 'win1252']) assert.ok(!isParsableEncoding(bad), bad);
    assert.throws(
      () =>
        readStartup(
          new Map([
            ['user', 'a'],
            ['options', '-c client_encoding=SJIS'],
          ]),
        ),
      (e: PgError) => e.code === '0A000',
    );
  });

  it('reads a leading /* airlock:reason=... */ comment and reason: application names', () => {
    assert.equal(
      statementReason('  /* airlock:reason=JIRA-1 backfill */ UPDATE t SET a = 1'),
      'JIRA-1 backfill',
    );
    assert.equal(statementReason('UPDATE t SET a = 1 /* airlock:reason=late */'), undefined);
    assert.equal(applicationNameReason('reason: nightly cleanup'), 'nightly cleanup');
    assert.equal(applicationNameReason('psql'), undefined);
  });
});

describe('upstream passwords', () => {
  it('reads env and file sources', async () => {
    process.env.AIRLOCK_UNIT_PG_PW = 'from-env';
    assert.equal(
      await passwordProvider(
        { kind: 'env', name: 'AIRLOCK_UNIT_PG_PW' },
        { host: 'h', port: 1, user: 'u' },
      )(),
      'from-env',
    );
    await assert.rejects(
      passwordProvider({ kind: 'env', name: 'AIRLOCK_UNIT_PG_NONE' }, { host: 'h', port: 1, user: 'u' })(),
      /not set/,
    );
  });

  it('mints an RDS IAM token signed with Airlock credentials for host, port and user', async () => {
    const token = await passwordProvider(
      { kind: 'rds_iam', region: 'eu-west-1' },
      { host: 'db.cluster-abc.eu-west-1.rds.amazonaws.com', port: 5432, user: 'airlock' },
      async () => ({ accessKeyId: 'AKIAAIRLOCKTEST00001', secretAccessKey: 'secret' }),
    )();
    assert.match(token, /^db\.cluster-abc\.eu-west-1\.rds\.amazonaws\.com:5432\/\?/);
    const q = new URLSearchParams(token.slice(token.indexOf('?') + 1));
    assert.equal(q.get('Action'), 'connect');
    assert.equal(q.get('DBUser'), 'airlock');
    assert.equal(q.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256');
    assert.match(
      q.get('X-Amz-Credential') ?? '',
      /^AKIAAIRLOCKTEST00001\/\d{8}\/eu-west-1\/rds-db\/aws4_request$/,
    );
    assert.match(q.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/);
    assert.equal(q.get('X-Amz-Expires'), '900');
  });
});
