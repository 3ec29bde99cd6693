/**
 * What an approver reads in the terminal cannot be rewritten by the agent:
 * escape sequences, newlines and bidirectional overrides in agent-supplied text
 * (an S3 key in a resource ARN, a summary value, SQL) are printed escaped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printApproval, printAudit, table } from '../../src/cli/print.js';
import type { AuditRecord } from '../../src/ledger/audit.js';

const ESC = '\u001b';
const sneaky = `report.csv${ESC}[1A${ESC}[2K  request   s3:GetObject\n  reason    routine read\u202Etxt.exe`;

function noRawControls(out: string, lines: number): void {
  assert.ok(!out.includes(ESC), 'a raw ESC reached the terminal');
  assert.ok(!out.includes('\u202E'), 'a raw bidi override reached the terminal');
  assert.equal(out.split('\n').length, lines, 'agent text added lines');
}

describe('CLI printers escape agent-supplied text', () => {
  it('approvals show', () => {
    const out = printApproval({
      approval: {
        id: 'apr_x',
        status: 'pending',
        expiresAt: '2026-01-01T00:00:00Z',
        agent: 'bot',
        service: 's3',
        operation: 'DeleteObject',
        scopes: [{ action: 's3:DeleteObject', resource: `arn:aws:s3:::reports/${sneaky}` }],
        reason: sneaky,
        terms: { requirements: [{ group: 'dba', quorum: 1, policyId: 'p' }], maxGrantSeconds: 60 },
        policyReasons: ['p'],
        summary: { key: sneaky },
      },
    });
    noRawControls(out, 11);
    assert.match(out, /\\u\{1b\}\[1A/);
  });

  it('audit show and lists', () => {
    const rec = {
      approvalId: 'apr_x',
      status: 'approved',
      requester: { agent: 'bot', accessKeyId: 'ALAK' },
      request: {
        service: 's3',
        operation: 'DeleteObject',
        requestedAt: 't',
        scopes: [{ action: 'a', resource: sneaky }],
      },
      reason: sneaky,
      decisions: [{ approver: 'alice', verdict: 'approve', channel: 'cli', decidedAt: 't', comment: sneaky }],
      grant: null,
      actions: [],
    } as unknown as AuditRecord;
    noRawControls(printAudit(rec), 9);
    noRawControls(table([{ reason: sneaky }], ['reason']), 2);
  });
});
