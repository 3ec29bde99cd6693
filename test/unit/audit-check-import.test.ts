/**
 * `audit check --import`: both shipped example exports scored with the same six
 * items, the CloudTrail join, and the errors a bad mapping or export produces.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importRecords } from '../../src/audit-check/import.js';
import { DEFAULT_THRESHOLDS } from '../../src/audit-check/record.js';
import { buildReport, type CheckReport } from '../../src/audit-check/report.js';
import { parseTime } from '../../src/audit-check/values.js';

const NOW = new Date('2026-06-01T00:00:00Z');
const score = (file: string, mapping: string): CheckReport => {
  const { source, records, orphans } = importRecords(file, mapping);
  return buildReport({ source, records, orphans, thresholds: DEFAULT_THRESHOLDS, filter: {}, now: NOW });
};
const codes = (r: CheckReport, id: string) => {
  const s = r.records.find((x) => x.record.id === id);
  assert.ok(s, id);
  return [...new Set(s.items.flatMap((i) => i.findings.map((f) => f.code)))].sort();
};

describe('import: Jira + Slack CSV', () => {
  const r = score('examples/workflows/jira-slack.csv', 'examples/workflows/jira-slack.mapping.yaml');
  const unprovable = ['actions.actions-not-linked', 'grant.missing'];

  it('reports what a ticket export cannot prove: the grant and the actions', () => {
    assert.deepEqual(codes(r, 'OPS-101'), unprovable);
    const s = r.records.find((x) => x.record.id === 'OPS-101');
    assert.ok(s?.items.filter((i) => !i.ok).every((i) => i.findings.every((f) => f.kind === 'unproven')));
  });
  it('a Slack approval of "production access" by a shared role fails every item', () => {
    assert.deepEqual(
      codes(r, 'OPS-102'),
      [
        'decisions.not-in-record',
        'reason.trivial',
        'request.vague',
        'requester.shared-role',
        ...unprovable,
      ].sort(),
    );
    assert.deepEqual(
      codes(r, 'OPS-103'),
      ['decisions.not-in-record', 'request.wildcard-resource', ...unprovable].sort(),
    );
  });
  it('finds boilerplate reasons and the approver who stamps them', () => {
    for (const id of ['OPS-104', 'OPS-105', 'OPS-106', 'OPS-107', 'OPS-108'])
      assert.deepEqual(
        codes(r, id),
        [
          'decisions.rubber-stamp-approver',
          'decisions.rubber-stamp-fast',
          'reason.boilerplate',
          ...unprovable,
        ].sort(),
      );
    const carol = r.approvers.find((a) => a.approver === 'carol');
    assert.equal(carol?.rubberStamp, true);
    assert.equal(carol?.medianReviewSeconds, undefined, 'Jira records no review time');
  });
  it('a denial from a bare access key with reason "test"', () => {
    assert.deepEqual(codes(r, 'OPS-109'), ['reason.trivial', 'requester.unknown-key']);
  });
  it('keeps the multi-line quoted description intact', () => {
    const rec = r.records.find((x) => x.record.id === 'OPS-101')?.record;
    assert.match(rec?.reason ?? '', /charged twice \(see "FIN-221"\)\.\nWrites one item/);
  });
  it('does not score the open ticket and fails the gate', () => {
    assert.equal(r.totals.notScored, 1);
    assert.equal(r.totals.scored, 9);
    assert.equal(r.gate.passed, false);
  });
});

describe('import: ServiceNow JSON lines + CloudTrail', () => {
  const r = score('examples/workflows/servicenow.jsonl', 'examples/workflows/servicenow.mapping.yaml');

  it('passes a change whose actions carry its number in the role session', () => {
    assert.deepEqual(codes(r, 'CHG0031001'), []);
    const rec = r.records.find((x) => x.record.id === 'CHG0031001')?.record;
    assert.deepEqual(
      rec?.actions?.map((a) => [a.id, a.link]),
      [
        ['ev-0001', 'recorded'],
        ['ev-0002', 'recorded'],
      ],
    );
    assert.deepEqual(codes(r, 'CHG0031005'), [], 'a documented denial passes');
  });
  it('an action joined only on principal and time is unproven', () => {
    assert.deepEqual(codes(r, 'CHG0031002'), ['actions.inferred-link']);
  });
  it('an action outside the granted scope fails the session', () => {
    assert.deepEqual(codes(r, 'CHG0031003'), ['actions.outside-grant-scope']);
  });
  it('an unused eight-hour grant and a grant broader than the request fail the grant', () => {
    assert.deepEqual(codes(r, 'CHG0031004'), ['grant.unused-long-lived']);
    assert.deepEqual(codes(r, 'CHG0031006'), ['grant.broader-than-request']);
  });
  it('reports a governed principal writing outside every approval window; ignores reads and other principals', () => {
    assert.deepEqual(
      r.orphans.map((o) => [o.id, o.code]),
      [['ev-0007', 'actions.unapproved-action']],
    );
  });
});

describe('import errors and formats', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-import-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it('refuses unknown mapping keys and a mapping without an id field', () => {
    const data = write('a.csv', 'id\n1\n');
    assert.throws(
      () => importRecords(data, write('m1.yaml', 'fields:\n  id: id\n  reasn: x\n')),
      /unknown key fields\.reasn/,
    );
    assert.throws(
      () => importRecords(data, write('m2.yaml', 'fields:\n  reason: r\n')),
      /fields\.id is required/,
    );
    assert.throws(
      () =>
        importRecords(data, write('m3.yaml', 'fields: {id: id, status: s}\ncloudtrail: {principal: x}\n')),
      /cloudtrail\.file/,
    );
  });
  it('names the line of a bad JSON line and the record of a ragged CSV row', () => {
    const m = write('m.yaml', 'fields:\n  id: id\n  status: s\n');
    assert.throws(() => importRecords(write('b.jsonl', '{"id":1}\n{oops\n'), m), /b\.jsonl:2:/);
    assert.throws(() => importRecords(write('b.csv', 'id,x\n1\n'), m), /record 1 has 1 fields/);
  });
  it('refuses status values the mapping does not list, rather than dropping those rows', () => {
    const data = write('s.csv', 'id,s\n1,Done\n2,Closed\n3,Closed\n4,\n');
    assert.throws(
      () => importRecords(data, write('s.yaml', 'fields: {id: id, status: s}\n')),
      /status value\(s\) not in the mapping: "Closed" \(2 rows\), "" \(1 row\)/,
    );
  });
  it('reads `aws cloudtrail lookup-events` output (events wrapped as JSON strings)', () => {
    const event = {
      eventID: 'e1',
      eventTime: '2026-03-02T09:10:00Z',
      eventSource: 'dynamodb.amazonaws.com',
      eventName: 'PutItem',
      awsRegion: 'us-east-1',
      recipientAccountId: '123456789012',
      userIdentity: { userName: 'etl-bot' },
      requestParameters: { tableName: 'orders' },
    };
    write(
      'ct.json',
      JSON.stringify({ Records: [{ EventId: 'e1', CloudTrailEvent: JSON.stringify(event) }] }),
    );
    const data = write(
      'c.jsonl',
      `${JSON.stringify({ n: 'C1', who: 'etl-bot', act: 'dynamodb:PutItem', res: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders', at: '2026-03-02T09:00:00Z', st: 'approved', by: 'alice' })}\n`,
    );
    const m = write(
      'c.yaml',
      'fields: {id: n, requester: who, action: act, resource: res, decided_at: at, status: st, approver: by}\ncloudtrail: {file: ct.json, principal: userIdentity.userName}\n',
    );
    const { records } = importRecords(data, m);
    assert.deepEqual(records[0]?.actions?.[0]?.scopes, [
      { action: 'dynamodb:PutItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders' },
    ]);
    assert.equal(records[0]?.actions?.[0]?.link, 'inferred');
  });
  it('parses the time formats exports use', () => {
    assert.equal(parseTime('2026-03-02 09:00')?.toISOString(), '2026-03-02T09:00:00.000Z');
    assert.equal(parseTime('2026-03-02T09:00:00+01:00')?.toISOString(), '2026-03-02T08:00:00.000Z');
    assert.equal(parseTime(1772442000)?.toISOString(), '2026-03-02T09:00:00.000Z');
    assert.equal(parseTime('1772442000000')?.toISOString(), '2026-03-02T09:00:00.000Z');
    assert.equal(parseTime('yesterday'), undefined);
  });
});
