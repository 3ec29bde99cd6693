/** The default `audit check` output: one table row per record, then the aggregate. */
import { table } from '../core/text-table.js';
import { ITEMS } from './record.js';
import { type CheckReport, worstRecords } from './report.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const secs = (x: number | undefined) =>
  x === undefined ? '-' : x < 120 ? `${x.toFixed(1)}s` : `${(x / 60).toFixed(1)}m`;

export function renderText(r: CheckReport): string {
  const rows = r.records.map((s) => {
    const row: Record<string, unknown> = {
      record: s.record.id,
      status: s.record.status,
      'requested by': s.record.requester.name ?? '-',
    };
    for (const i of s.items)
      row[i.item] = i.ok ? 'ok' : i.findings.some((f) => f.kind === 'fail') ? 'FAIL' : 'UNPROVEN';
    return row;
  });
  const out: string[] = [
    `audit check — ${r.source}`,
    '',
    table(rows, ['record', 'status', 'requested by', ...ITEMS]),
  ];

  const worst = worstRecords(r, 10);
  if (worst.length > 0) {
    out.push('', 'why (worst records first):');
    for (const s of worst) {
      out.push(`  ${s.record.id}`);
      for (const i of s.items) for (const f of i.findings) out.push(`    ${f.code.padEnd(34)} ${f.message}`);
    }
  }
  if (r.orphans.length > 0) {
    out.push('', 'actions without the approval policy required:');
    for (const o of r.orphans) out.push(`  ${o.id}  ${o.code.padEnd(28)} ${o.message}`);
  }
  out.push(
    '',
    'per item:',
    table(
      ITEMS.map((i) => ({
        item: i,
        pass: r.items[i].pass,
        fail: r.items[i].fail,
        reasons: Object.entries(r.items[i].codes)
          .map(([c, n]) => `${c.split('.')[1]}×${n}`)
          .join(' '),
      })),
      ['item', 'pass', 'fail', 'reasons'],
    ),
    '',
    'approvers:',
    table(
      r.approvers.map((a) => ({
        approver: a.approver,
        approvals: a.approvals,
        denials: a.denials,
        'fast/unviewed': `${a.fastOrUnviewed} (${pct(a.stampShare)})`,
        'median review': secs(a.medianReviewSeconds),
        'median decision': secs(a.medianTimeToDecisionSeconds),
        'rubber stamp': a.rubberStamp ? 'YES' : 'no',
      })),
      [
        'approver',
        'approvals',
        'denials',
        'fast/unviewed',
        'median review',
        'median decision',
        'rubber stamp',
      ],
    ),
    '',
    `scored ${r.totals.scored} (not scored: ${r.totals.notScored} pending/expired), passing ${r.totals.passing}, failing ${r.totals.failing}, orphan actions ${r.totals.orphanActions}`,
    `rubber-stamped approvals: ${pct(r.totals.rubberStampShare)} (under ${r.thresholds.minReviewSeconds === undefined ? "the tier's minimum or the time to read the request" : `${r.thresholds.minReviewSeconds}s`}, or unviewed)`,
    `grants: ${r.totals.grants.exact} exact (one request), ${r.totals.grants.items} items (these keys), ${r.totals.grants.scope} scope (wide: the operation on the resource for a time)${r.totals.grants.unrecorded > 0 ? `, ${r.totals.grants.unrecorded} of unrecorded breadth` : ''}`,
    `failing share ${pct(r.totals.failShare)} — gate ${r.gate.passed ? 'PASSED' : 'FAILED'} (max ${pct(r.gate.maxFailShare)})`,
  );
  return out.join('\n');
}
