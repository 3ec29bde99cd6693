/**
 * Server-side SVG charts for the HTML report: plain strings, no script, no external
 * fonts or images, so the report is one self-contained file that renders anywhere.
 * Every data mark carries class="mark" (tests count them). All text is escaped.
 */
import { type ApproverMetrics, median } from './approver-metrics.js';
import { ITEMS, type ItemName } from './record.js';
import type { TimeBucket } from './report.js';

export const ITEM_COLORS: Record<ItemName, string> = {
  requester: '#6366f1',
  request: '#0ea5e9',
  reason: '#14b8a6',
  decisions: '#f59e0b',
  grant: '#ec4899',
  actions: '#8b5cf6',
};

export function esc(s: unknown): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export function humanSeconds(s: number): string {
  if (s < 60) return `${fmt(Math.round(s * 10) / 10)}s`;
  if (s < 3600) return `${fmt(Math.round(s / 6) / 10)}m`;
  if (s < 86400) return `${fmt(Math.round(s / 360) / 10)}h`;
  return `${fmt(Math.round(s / 8640) / 10)}d`;
}

/** Dots per decision on a log time axis, one row per approver, the rubber-stamp line in red; red dots are stamps. */
export function timeToDecisionChart(approvers: readonly ApproverMetrics[], thresholdSeconds: number): string {
  const rows = approvers.filter((a) => a.points.length > 0);
  if (rows.length === 0) return emptyChart('No decisions with a recorded time.');
  const W = 720;
  const left = 130;
  const right = 24;
  const rowH = 40;
  const top = 16;
  const H = top + rows.length * rowH + 34;
  const all = rows.flatMap((a) => a.points.map((p) => p.seconds));
  const lo = Math.log10(Math.max(0.5, Math.min(1, ...all)));
  const hi = Math.log10(Math.max(thresholdSeconds * 4, ...all) * 1.3);
  const x = (s: number) => left + ((Math.log10(Math.max(s, 0.5)) - lo) / (hi - lo)) * (W - left - right);
  const ticks = [1, 5, 15, 30, 60, 300, 900, 3600, 4 * 3600, 86400, 7 * 86400].filter(
    (t) => Math.log10(t) >= lo && Math.log10(t) <= hi,
  );
  const parts: string[] = [];
  for (const t of ticks) {
    const tx = x(t).toFixed(1);
    parts.push(
      `<line x1="${tx}" x2="${tx}" y1="${top}" y2="${H - 30}" class="grid"/>`,
      `<text x="${tx}" y="${H - 12}" text-anchor="middle" class="axis">${humanSeconds(t)}</text>`,
    );
  }
  const tx = x(thresholdSeconds);
  parts.push(
    `<rect x="${left}" y="${top}" width="${(tx - left).toFixed(1)}" height="${H - 30 - top}" fill="#fee2e2" opacity="0.55"/>`,
    `<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${top}" y2="${H - 30}" stroke="#dc2626" stroke-width="2" stroke-dasharray="5 4"/>`,
    `<text x="${(tx - 6).toFixed(1)}" y="${H - 36}" text-anchor="end" class="axis" fill="#b91c1c">rubber-stamp line ${humanSeconds(thresholdSeconds)}</text>`,
  );
  rows.forEach((a, r) => {
    const cy = top + r * rowH + rowH / 2;
    const color = a.rubberStamp ? '#dc2626' : '#334155';
    parts.push(
      `<text x="${left - 10}" y="${cy + 4}" text-anchor="end" class="label" fill="${color}">${esc(a.approver)}${a.rubberStamp ? ' ⚑' : ''}</text>`,
      `<line x1="${left}" x2="${W - right}" y1="${cy}" y2="${cy}" class="row"/>`,
    );
    a.points.forEach((p, i) => {
      const jitter = (((i * 37) % 11) - 5) * 2.2;
      parts.push(
        `<circle class="mark" cx="${x(p.seconds).toFixed(1)}" cy="${(cy + jitter).toFixed(1)}" r="5" fill="${p.stamp ? '#ef4444' : '#0ea5e9'}" fill-opacity="0.8" stroke="#fff"><title>${esc(a.approver)}: ${humanSeconds(p.seconds)}${p.stamp ? ' (rubber stamp)' : ''}</title></circle>`,
      );
    });
    const med = median(a.points.map((p) => p.seconds));
    if (med !== undefined) {
      const mx = x(med).toFixed(1);
      parts.push(
        `<line x1="${mx}" x2="${mx}" y1="${cy - 14}" y2="${cy + 14}" stroke="#0f172a" stroke-width="3"><title>median ${humanSeconds(med)}</title></line>`,
      );
    }
  });
  return svg(W, H, 'Time to decision, per approver', parts);
}

/** A donut of approvals under the threshold (or unviewed) against the rest. */
export function stampDonut(share: number, approvals: number): string {
  const R = 70;
  const r = 46;
  const c = 90;
  const parts: string[] = [];
  const arc = (from: number, to: number, color: string, title: string) => {
    if (to - from <= 0) return;
    if (to - from >= 1) {
      parts.push(
        `<circle class="mark" cx="${c}" cy="${c}" r="${(R + r) / 2}" fill="none" stroke="${color}" stroke-width="${R - r}"><title>${esc(title)}</title></circle>`,
      );
      return;
    }
    const p = (f: number, rad: number) => {
      const a = f * 2 * Math.PI - Math.PI / 2;
      return `${(c + rad * Math.cos(a)).toFixed(2)} ${(c + rad * Math.sin(a)).toFixed(2)}`;
    };
    const large = to - from > 0.5 ? 1 : 0;
    parts.push(
      `<path class="mark" d="M ${p(from, R)} A ${R} ${R} 0 ${large} 1 ${p(to, R)} L ${p(to, r)} A ${r} ${r} 0 ${large} 0 ${p(from, r)} Z" fill="${color}"><title>${esc(title)}</title></path>`,
    );
  };
  if (approvals === 0)
    parts.push(
      `<circle cx="${c}" cy="${c}" r="${(R + r) / 2}" fill="none" stroke="#e2e8f0" stroke-width="${R - r}"/>`,
    );
  arc(0, share, '#ef4444', `${Math.round(share * 100)}% rubber-stamped`);
  arc(share, approvals === 0 ? share : 1, '#22c55e', `${Math.round((1 - share) * 100)}% reviewed`);
  parts.push(
    `<text x="${c}" y="${c + 6}" text-anchor="middle" class="big">${Math.round(share * 100)}%</text>`,
    `<text x="${c}" y="${c + R + 24}" text-anchor="middle" class="axis">of ${approvals} approvals</text>`,
  );
  return svg(180, 200, 'Share of approvals under the rubber-stamp threshold', parts);
}

/** Horizontal bars: pass vs fail per item. */
export function itemBars(items: Record<ItemName, { pass: number; fail: number }>): string {
  const W = 520;
  const left = 110;
  const rowH = 30;
  const H = ITEMS.length * rowH + 10;
  const max = Math.max(1, ...ITEMS.map((i) => items[i].pass + items[i].fail));
  const parts: string[] = [];
  ITEMS.forEach((item, k) => {
    const y = 6 + k * rowH;
    const { pass, fail } = items[item];
    const wp = ((W - left - 60) * pass) / max;
    const wf = ((W - left - 60) * fail) / max;
    parts.push(
      `<text x="${left - 10}" y="${y + 16}" text-anchor="end" class="label">${k + 1} ${item}</text>`,
    );
    if (pass > 0)
      parts.push(
        `<rect class="mark" x="${left}" y="${y}" width="${wp.toFixed(1)}" height="22" rx="3" fill="#22c55e"><title>${pass} pass</title></rect>`,
      );
    if (fail > 0)
      parts.push(
        `<rect class="mark" x="${(left + wp).toFixed(1)}" y="${y}" width="${wf.toFixed(1)}" height="22" rx="3" fill="#ef4444"><title>${fail} fail</title></rect>`,
      );
    parts.push(
      `<text x="${(left + wp + wf + 6).toFixed(1)}" y="${y + 16}" class="axis">${fail}/${pass + fail} fail</text>`,
    );
  });
  return svg(W, H, 'Records passing and failing each item', parts);
}

/**
 * Stacked columns per day: one segment per item, its height the records failing that
 * item (lines for six items overlap whenever two items fail alike; stacks do not).
 */
export function failuresOverTime(timeline: readonly TimeBucket[]): string {
  if (timeline.length === 0) return emptyChart('No dated records.');
  const W = 720;
  const H = 260;
  const left = 40;
  const right = 110;
  const top = 22;
  const bottom = 40;
  const total = (b: TimeBucket) => ITEMS.reduce((n, i) => n + b.failing[i], 0);
  const max = Math.max(1, ...timeline.map(total));
  const n = timeline.length;
  const slot = (W - left - right) / n;
  const bw = Math.min(38, slot * 0.7);
  const y = (v: number) => top + (1 - v / max) * (H - top - bottom);
  const parts: string[] = [];
  const steps = Math.min(max, 4);
  for (let s = 0; s <= steps; s++) {
    const v = Math.round((max * s) / steps);
    parts.push(
      `<line x1="${left}" x2="${W - right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/>`,
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" class="axis">${v}</text>`,
    );
  }
  const every = Math.max(1, Math.ceil(n / 10));
  timeline.forEach((b, k) => {
    const cx = left + slot * (k + 0.5);
    let acc = 0;
    for (const item of ITEMS) {
      const v = b.failing[item];
      if (v === 0) continue;
      parts.push(
        `<rect class="mark" x="${(cx - bw / 2).toFixed(1)}" y="${y(acc + v).toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(acc) - y(acc + v)).toFixed(1)}" fill="${ITEM_COLORS[item]}" stroke="#fff" stroke-width="1"><title>${esc(b.day)} ${item}: ${v} of ${b.records} records failing</title></rect>`,
      );
      acc += v;
    }
    parts.push(
      `<text x="${cx.toFixed(1)}" y="${(y(acc) - 5).toFixed(1)}" text-anchor="middle" class="axis">${b.records - b.passing}/${b.records}</text>`,
    );
    if (k % every === 0 || k === n - 1)
      parts.push(
        `<text x="${cx.toFixed(1)}" y="${H - 18}" text-anchor="middle" class="axis">${esc(b.day.slice(5))}</text>`,
      );
  });
  ITEMS.forEach((item, idx) => {
    parts.push(
      `<rect x="${W - right + 14}" y="${top + idx * 20}" width="12" height="12" rx="2" fill="${ITEM_COLORS[item]}"/>`,
      `<text x="${W - right + 32}" y="${top + idx * 20 + 10}" class="axis">${item}</text>`,
    );
  });
  return svg(W, H, 'Records failing each item, per day', parts);
}

function emptyChart(msg: string): string {
  return svg(720, 60, msg, [`<text x="16" y="34" class="axis">${esc(msg)}</text>`]);
}

function svg(w: number, h: number, title: string, parts: readonly string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="100%" style="max-width:${w}px" role="img" aria-label="${esc(title)}"><title>${esc(title)}</title>${parts.join('')}</svg>`;
}
