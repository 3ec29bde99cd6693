import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eligibleGroups, quorumState } from '../../src/approvals/quorum.js';
import type { DecisionRecord } from '../../src/core/types.js';

const d = (approver: string, verdict: 'approve' | 'deny'): DecisionRecord => ({
  approvalId: 'apr_x',
  approver,
  verdict,
  comment: '',
  channel: 'api',
  shownAt: undefined,
  decidedAt: new Date(),
});
const groups: Record<string, string[]> = {
  alice: ['dba'],
  bob: ['dba', 'finance'],
  carol: ['finance'],
  eve: [],
};
const of = (n: string) => groups[n] ?? [];

describe('quorum', () => {
  const two = [{ group: 'finance', quorum: 2, policyId: 'p' }];
  it('needs N distinct members of the group', () => {
    assert.equal(quorumState(two, [d('bob', 'approve')], of), 'pending');
    assert.equal(quorumState(two, [d('bob', 'approve'), d('bob', 'approve')], of), 'pending');
    assert.equal(quorumState(two, [d('bob', 'approve'), d('alice', 'approve')], of), 'pending');
    assert.equal(quorumState(two, [d('bob', 'approve'), d('carol', 'approve')], of), 'approved');
  });
  it('lets one denial veto', () => {
    assert.equal(quorumState(two, [d('bob', 'approve'), d('carol', 'deny')], of), 'denied');
  });
  it('requires every requirement when several policies hold', () => {
    const both = [
      { group: 'dba', quorum: 1, policyId: 'a' },
      { group: 'finance', quorum: 1, policyId: 'b' },
    ];
    assert.equal(quorumState(both, [d('alice', 'approve')], of), 'pending');
    assert.equal(quorumState(both, [d('alice', 'approve'), d('carol', 'approve')], of), 'approved');
    assert.equal(quorumState(both, [d('bob', 'approve')], of), 'approved');
  });
  it('never approves with no requirements', () => {
    assert.equal(quorumState([], [d('alice', 'approve')], of), 'pending');
  });
  it('reports eligibility', () => {
    assert.deepEqual(eligibleGroups(two, ['dba']), []);
    assert.deepEqual(eligibleGroups(two, ['finance', 'dba']), ['finance']);
  });
});
