/**
 * `airlock audit check`: read records (the local ledger, or an import + mapping),
 * score them, render text/json/html, and turn the failing share into an exit code.
 *
 * Exit codes (docs/AUDIT-CHECK.md): 0 the gate passed; 4 more than the allowed share
 * of records failed; 3 the ledger's hash chain is broken (nothing in it can be trusted,
 * so nothing is scored); 2 usage; 1 any other error (unreadable file, bad mapping).
 */
import { writeFileSync } from 'node:fs';
import { recordsFromLedger } from '../audit-check/from-ledger.js';
import { importRecords } from '../audit-check/import.js';
import {
  type ApprovalRecord,
  DEFAULT_THRESHOLDS,
  type OrphanAction,
  type Thresholds,
} from '../audit-check/record.js';
import { renderHtml } from '../audit-check/render-html.js';
import { renderText } from '../audit-check/render-text.js';
import { buildReport, type CheckReport } from '../audit-check/report.js';
import type { AuditCheckSettings } from '../config/audit-check-config.js';
import type { Store } from '../ledger/store.js';
import { CliError } from './cli-error.js';

export const EXIT_GATE_FAILED = 4;
export const EXIT_LEDGER_BROKEN = 3;

export interface AuditCheckFlags {
  readonly since?: string | undefined;
  readonly agent?: string | undefined;
  readonly resource?: string | undefined;
  readonly format?: string | undefined;
  readonly out?: string | undefined;
  readonly import?: string | undefined;
  readonly mapping?: string | undefined;
  readonly 'max-fail-share'?: string | undefined;
  readonly 'min-review-seconds'?: string | undefined;
}

/** Defaults ← config `audit_check:` ← flags. */
export function thresholdsFrom(settings: AuditCheckSettings | undefined, flags: AuditCheckFlags): Thresholds {
  const s = settings ?? {};
  const share = flagNumber(flags['max-fail-share'], '--max-fail-share', 0, 1);
  const min = flagNumber(flags['min-review-seconds'], '--min-review-seconds', 0, 86400);
  return {
    // Absent: per decision, from the tier's minimum and the reading time (audit-check/review-time.ts).
    minReviewSeconds: min ?? s.minReviewSeconds,
    maxFailShare: share ?? s.maxFailShare ?? DEFAULT_THRESHOLDS.maxFailShare,
    rubberStampShare: s.rubberStampShare ?? DEFAULT_THRESHOLDS.rubberStampShare,
    rubberStampMinDecisions: s.rubberStampMinDecisions ?? DEFAULT_THRESHOLDS.rubberStampMinDecisions,
    boilerplateMinRepeats: s.boilerplateMinRepeats ?? DEFAULT_THRESHOLDS.boilerplateMinRepeats,
    unusedGrantSeconds: s.unusedGrantSeconds ?? DEFAULT_THRESHOLDS.unusedGrantSeconds,
    trivialReasons: [...DEFAULT_THRESHOLDS.trivialReasons, ...(s.extraTrivialReasons ?? [])],
    sharedIdentities: [...DEFAULT_THRESHOLDS.sharedIdentities, ...(s.extraSharedIdentities ?? [])],
  };
}

function flagNumber(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new CliError(`${name} must be a number from ${min} to ${max}`, 2);
  return n;
}

/** ISO 8601 time, or a duration back from now: 30m, 12h, 7d, 2w. */
export function parseSince(v: string | undefined, now: Date): Date | undefined {
  if (v === undefined) return undefined;
  const rel = /^(\d+)([smhdw])$/.exec(v.trim());
  if (rel) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[rel[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    return new Date(now.getTime() - Number(rel[1]) * unit * 1000);
  }
  const d = new Date(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(d.getTime()))
    throw new CliError(`--since must be an ISO time (2026-01-31T00:00Z) or a duration like 7d, 12h`, 2);
  return d;
}

export async function runAuditCheck(opts: {
  flags: AuditCheckFlags;
  settings: AuditCheckSettings | undefined;
  /** Opens the local store; not called for --import. */
  openStore: () => Store;
  now?: Date;
  write?: (text: string) => void;
}): Promise<number> {
  const { flags } = opts;
  const now = opts.now ?? new Date();
  const write = opts.write ?? ((t: string) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`));
  const format = flags.format ?? 'text';
  if (format !== 'text' && format !== 'json' && format !== 'html')
    throw new CliError('--format must be text, json or html', 2);
  if ((flags.import === undefined) !== (flags.mapping === undefined))
    throw new CliError('--import FILE and --mapping MAP.yaml go together', 2);
  const thresholds = thresholdsFrom(opts.settings, flags);
  const filter = { since: parseSince(flags.since, now), agent: flags.agent, resource: flags.resource };

  let source: string;
  let records: ApprovalRecord[];
  let orphans: OrphanAction[];
  if (flags.import !== undefined && flags.mapping !== undefined) {
    const imported = importRecords(flags.import, flags.mapping);
    ({ source, records, orphans } = imported);
  } else {
    const store = opts.openStore();
    try {
      const verified = await store.verify();
      if (!verified.ok) {
        process.stderr.write(
          `airlock: ledger BROKEN at entry ${verified.firstBadSeq} (${verified.problem}); nothing in it can be scored. Run \`airlock audit verify\`.\n`,
        );
        return EXIT_LEDGER_BROKEN;
      }
      ({ records, orphans } = recordsFromLedger(await store.ledger({})));
      source = `Airlock ledger (${verified.entries} entries, verified)`;
    } finally {
      await store.close();
    }
  }

  const report = buildReport({ source, records, orphans, thresholds, filter, now });
  const text = render(report, format);
  if (flags.out !== undefined) {
    writeFileSync(flags.out, text);
    process.stderr.write(
      `airlock: wrote ${flags.out} — ${report.totals.failing}/${report.totals.scored} failing, gate ${report.gate.passed ? 'passed' : 'FAILED'}\n`,
    );
  } else write(text);
  return report.gate.passed ? 0 : EXIT_GATE_FAILED;
}

export function render(report: CheckReport, format: 'text' | 'json' | 'html'): string {
  if (format === 'html') return renderHtml(report);
  if (format === 'json') return JSON.stringify(report, null, 2);
  return renderText(report);
}
