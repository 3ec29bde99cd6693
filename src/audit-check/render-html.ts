/**
 * `audit check --format html`: one self-contained file. Inline CSS, inline SVG drawn
 * here (svg-charts.ts), no script, no web font, no external URL; a CSP meta tag forbids
 * any fetch, so even a hostile string that slipped past escaping could load nothing.
 * Anchors are by position (#rec-N), never built from imported ids.
 */
import { FALLBACK_MIN_REVIEW_SECONDS, ITEMS } from './record.js';
import { type CheckReport, type ScoredRecord, worstRecords } from './report.js';
import { reviewSeconds, timeToDecision, viewedDetail } from './review-time.js';
import {
  esc,
  failuresOverTime,
  humanSeconds,
  ITEM_COLORS,
  itemBars,
  stampDonut,
  timeToDecisionChart,
} from './svg-charts.js';

const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;

const CSS = `
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--ok:#16a34a;--bad:#dc2626;--warn:#d97706}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header{background:linear-gradient(120deg,#0f172a,#1e293b 60%,#334155);color:#fff;padding:28px 40px 64px}
header h1{margin:0 0 4px;font-size:26px;letter-spacing:-.01em}header p{margin:0;color:#cbd5e1}
main{max-width:1120px;margin:0 auto;padding:24px 40px 60px}
.gate{display:inline-block;margin-top:14px;padding:6px 14px;border-radius:999px;font-weight:700;letter-spacing:.04em}
.gate.pass{background:#dcfce7;color:#166534}.gate.fail{background:#fee2e2;color:#991b1b}
.kpis{display:grid;grid-template-columns:repeat(4,1fr);gap:16px;margin:-40px 0 24px}
.kpi{background:#fff;border:1px solid var(--line);border-radius:14px;padding:16px 18px;box-shadow:0 4px 18px rgba(15,23,42,.06)}
.kpi b{display:block;font-size:30px;line-height:1.1}.kpi span{color:var(--muted);font-size:13px}
.card{background:#fff;border:1px solid var(--line);border-radius:14px;padding:18px 22px;margin:0 0 20px;box-shadow:0 2px 10px rgba(15,23,42,.04)}
.card h2{margin:0 0 2px;font-size:17px}.card p.sub{margin:0 0 12px;color:var(--muted);font-size:13px}
.two{display:grid;grid-template-columns:220px 1fr;gap:20px;align-items:center}
svg .grid{stroke:#e2e8f0;stroke-width:1}svg .row{stroke:#f1f5f9;stroke-width:1}
svg .axis{font-size:11px;fill:#64748b}svg .label{font-size:13px;fill:#334155;font-weight:600}svg .big{font-size:30px;font-weight:800;fill:#0f172a}
table{width:100%;border-collapse:collapse;font-size:13.5px}th,td{text-align:left;padding:7px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.chip{display:inline-block;min-width:22px;text-align:center;padding:1px 7px;border-radius:6px;font-size:12px;font-weight:700;margin-right:3px}
.chip.ok{background:#dcfce7;color:#166534}.chip.fail{background:#fee2e2;color:#991b1b}.chip.unproven{background:#fef3c7;color:#92400e}
a{color:#2563eb;text-decoration:none}a:hover{text-decoration:underline}
.rec{border:1px solid var(--line);border-radius:12px;padding:14px 18px;margin:0 0 14px;background:#fff}
.rec:target{outline:3px solid #93c5fd}
.rec h3{margin:0 0 6px;font-size:15px;font-family:ui-monospace,Menlo,monospace}
.items{display:grid;grid-template-columns:repeat(6,1fr);gap:6px;margin:8px 0}
.item{border-radius:8px;padding:6px 8px;font-size:12px;border-left:4px solid}
.item.ok{background:#f0fdf4}.item.fail{background:#fef2f2}.item.unproven{background:#fffbeb}
ul.f{margin:6px 0 0;padding-left:18px;font-size:13px}ul.f code{font-size:12px;color:#475569}
.muted{color:var(--muted)}td.chips{white-space:nowrap}footer{color:var(--muted);font-size:12px;margin-top:30px}
`;

/** One line of what the record holds about decisions, grant and actions. */
function facts(rec: ScoredRecord['record']): string {
  const ds = rec.decisions.map((d) => {
    if (!d.inRecord) return `decided in ${d.channel ?? 'an unrecorded channel'} (not in the record)`;
    const review = reviewSeconds(d) ?? timeToDecision(rec, d);
    const viewed = viewedDetail(rec, d);
    return `${d.approver ?? 'nobody'} ${d.verdict ?? 'decided'}${d.channel ? ` via ${d.channel}` : ''}${review === undefined ? '' : ` after ${humanSeconds(review)}`}${viewed === false ? ', detail never opened' : ''}`;
  });
  const g = rec.grant;
  const grant =
    g === undefined
      ? 'no grant recorded'
      : `${g.breadth === undefined ? '' : `${g.breadth} `}grant ${g.issuedAt && g.expiresAt ? humanSeconds((g.expiresAt.getTime() - g.issuedAt.getTime()) / 1000) : 'without lifetime'}${g.revokedAt ? ', revoked' : ''}`;
  const acts = rec.actions === undefined ? 'no action data' : `${rec.actions.length} action(s)`;
  const show = rec.source === 'ledger' ? ` · full record: airlock audit show ${rec.id}` : '';
  return `${ds.join('; ') || 'no decision'} · ${grant} · ${acts}${show}`;
}

function itemState(s: ScoredRecord, item: (typeof ITEMS)[number]): 'ok' | 'fail' | 'unproven' {
  const r = s.items.find((i) => i.item === item);
  if (r === undefined || r.ok) return 'ok';
  return r.findings.some((f) => f.kind === 'fail') ? 'fail' : 'unproven';
}

function chips(s: ScoredRecord): string {
  return ITEMS.map((i) => {
    const st = itemState(s, i);
    return `<span class="chip ${st}" title="${i}: ${st}">${st === 'ok' ? '✓' : st === 'fail' ? '✗' : '?'}</span>`;
  }).join('');
}

export function renderHtml(r: CheckReport): string {
  const anchor = new Map(r.records.map((s, i) => [s, `rec-${i + 1}`]));
  const worst = worstRecords(r, 12);
  const approvedCount = r.records.filter((s) => s.record.status === 'approved').length;
  const failing = r.records.filter((s) => !s.ok);

  const worstRows = worst
    .map(
      (s) =>
        `<tr><td><a href="#${anchor.get(s)}">${esc(s.record.id)}</a></td><td>${esc(s.record.requester.name ?? '—')}</td><td class="chips">${chips(s)}</td><td>${esc(
          s.items
            .flatMap((i) => i.findings.map((f) => f.code))
            .slice(0, 4)
            .join(', '),
        )}</td></tr>`,
    )
    .join('');

  const approverRows = r.approvers
    .map(
      (a) =>
        `<tr><td>${esc(a.approver)}${a.rubberStamp ? ' <span class="chip fail">rubber stamp</span>' : ''}</td><td>${a.approvals}</td><td>${a.denials}</td><td>${a.fastOrUnviewed} (${pct(a.stampShare)})</td><td>${a.medianReviewSeconds === undefined ? '—' : humanSeconds(a.medianReviewSeconds)}</td><td>${a.medianTimeToDecisionSeconds === undefined ? '—' : humanSeconds(a.medianTimeToDecisionSeconds)}</td></tr>`,
    )
    .join('');

  const details = failing
    .map((s) => {
      const rec = s.record;
      const scopes =
        rec.request.scopes.map((q) => `${q.action} ${q.resource}`).join('; ') || rec.request.text || '—';
      const cells = ITEMS.map((i) => {
        const st = itemState(s, i);
        return `<div class="item ${st}" style="border-color:${ITEM_COLORS[i]}"><b>${i}</b><br>${st === 'ok' ? 'holds' : st === 'fail' ? 'fails' : 'cannot prove'}</div>`;
      }).join('');
      const findings = s.items
        .flatMap((i) => i.findings)
        .map((f) => `<li><code>${esc(f.code)}</code> — ${esc(f.message)}</li>`)
        .join('');
      return `<section class="rec" id="${anchor.get(s)}"><h3>${esc(rec.id)}</h3>
<div class="muted">${esc(rec.status)} · requested ${esc(rec.requestedAt?.toISOString() ?? 'at an unrecorded time')} by <b>${esc(rec.requester.name ?? 'nobody named')}</b> · ${esc(scopes)}</div>
<div class="muted">reason: ${rec.reason === undefined ? '<i>none given</i>' : `“${esc(rec.reason)}”`}</div>
<div class="muted">${esc(facts(rec))}</div><div class="items">${cells}</div><ul class="f">${findings}</ul></section>`;
    })
    .join('\n');

  const orphanRows = r.orphans
    .map(
      (o) =>
        `<tr><td>${esc(o.id)}</td><td>${esc(o.at.toISOString())}</td><td>${esc(o.agent)}</td><td>${esc(o.scopes.map((s) => `${s.action} ${s.resource}`).join('; '))}</td><td><code>${esc(o.code)}</code></td></tr>`,
    )
    .join('');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Airlock audit check — ${esc(r.source)}</title><style>${CSS}</style></head>
<body><header><h1>Is this approval workflow decorative?</h1>
<p>${esc(r.source)} · generated ${esc(r.generatedAt)}${r.filter.agent ? ` · agent ${esc(r.filter.agent)}` : ''}${r.filter.resource ? ` · resource ${esc(r.filter.resource)}` : ''}${r.filter.since ? ` · since ${esc(r.filter.since)}` : ''}</p>
<div class="gate ${r.gate.passed ? 'pass' : 'fail'}">GATE ${r.gate.passed ? 'PASSED' : 'FAILED'} · ${pct(r.totals.failShare)} failing (max ${pct(r.gate.maxFailShare)})</div>
</header><main>
<div class="kpis">
<div class="kpi"><b>${r.totals.scored}</b><span>approvals scored (${r.totals.notScored} pending/expired)</span></div>
<div class="kpi"><b style="color:${r.totals.failing > 0 ? 'var(--bad)' : 'var(--ok)'}">${r.totals.failing}</b><span>fail at least one of the six items</span></div>
<div class="kpi"><b style="color:${r.totals.rubberStampShare > 0 ? 'var(--warn)' : 'var(--ok)'}">${pct(r.totals.rubberStampShare)}</b><span>approvals under ${minLabel(r.thresholds.minReviewSeconds)} or unread</span></div>
<div class="kpi"><b style="color:${r.totals.orphanActions > 0 ? 'var(--bad)' : 'var(--ok)'}">${r.totals.orphanActions}</b><span>actions without the approval they needed</span></div>
</div>
<section class="card"><h2>The six items</h2><p class="sub">Requester, request, reason, decision, grant, session: how many records hold each.</p>${itemBars(r.items)}</section>
<section class="card"><h2>Time to decision, per approver</h2><p class="sub">Each dot is one decision: seconds from opening the request to deciding (from the request itself when no view is recorded), log scale; the bar is the median. Red dots are rubber stamps: under the ${minLabel(r.thresholds.minReviewSeconds)} line or never opened; ⚑ marks an approver whose approvals are almost all fast or unread and who never denies.</p>${timeToDecisionChart(r.approvers, r.thresholds.minReviewSeconds ?? FALLBACK_MIN_REVIEW_SECONDS)}</section>
<section class="card two"><div>${stampDonut(r.totals.rubberStampShare, approvedCount)}</div><div><h2>Rubber stamps</h2><p class="sub">Approvals whose every approving decision was reviewed for under ${minLabel(r.thresholds.minReviewSeconds)} or without opening the detail.</p>
<table><tr><th>approver</th><th>approved</th><th>denied</th><th>fast / unread</th><th>median review</th><th>median decision</th></tr>${approverRows || '<tr><td colspan="6" class="muted">no decisions</td></tr>'}</table></div></section>
<section class="card"><h2>Items failing over time</h2><p class="sub">Each segment counts the records failing one item, by the day they were requested; above each column, failing records / all records that day.</p>${failuresOverTime(r.timeline)}</section>
<section class="card"><h2>Worst records</h2><p class="sub">Most items failing first; follow a link for the record's findings.</p>
<table><tr><th>record</th><th>requester</th><th>six items</th><th>reasons</th></tr>${worstRows || '<tr><td colspan="4" class="muted">every record holds all six items</td></tr>'}</table></section>
${r.orphans.length > 0 ? `<section class="card"><h2>Actions without the approval they needed</h2><table><tr><th>action</th><th>at</th><th>principal</th><th>scope</th><th>reason</th></tr>${orphanRows}</table></section>` : ''}
<h2>Failing records</h2>
${details || '<p class="muted">none</p>'}
<footer>Thresholds: review ≥ ${minLabel(r.thresholds.minReviewSeconds)}; rubber-stamp approver ≥ ${r.thresholds.rubberStampMinDecisions} approvals, ${pct(r.thresholds.rubberStampShare)} fast/unread, no denials; boilerplate ≥ ${r.thresholds.boilerplateMinRepeats} repeats; unused grant ≥ ${humanSeconds(r.thresholds.unusedGrantSeconds)}. Codes: docs/AUDIT-CHECK.md.</footer>
</main></body></html>
`;
}

/** The "too fast" line: the override, or what applied per decision (review-time.ts minReviewFor). */
function minLabel(override: number | undefined): string {
  return override === undefined
    ? "the tier's minimum or the time to read the request"
    : humanSeconds(override);
}
