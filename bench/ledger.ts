/**
 * Figure: what record-before-forward costs a request, against the asynchronous recording
 * Airlock used before (one action row written after the answer, nobody waiting), in the
 * same process on the same disk.
 *
 * C concurrent "requests" loop for D seconds against the real SqliteStore
 * (WAL, synchronous=FULL). Each request does a fixed 200 µs of "upstream" work (a timer):
 *   - async (the baseline): upstream, then recordAction() without waiting for it;
 *   - intent (today): await recordIntent() (durable on the next commit), upstream, then
 *     recordOutcome() without waiting.
 * Prints requests/s and latency p50/p99 of each arm, and the ratios; then durable intents
 * per second with 256 writers and no upstream work, median of 3 rounds (issue 18's
 * `ledger-rows` target: rows/s ÷ 20,000, printed last).
 * Usage: npx tsx bench/ledger.ts [--concurrency 16] [--seconds 3]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { ActionRecord } from '../src/core/types.js';
import { SqliteStore } from '../src/ledger/sqlite/sqlite-store.js';
import { median, targetLine } from './support/targets.js';

const { values } = parseArgs({
  options: { concurrency: { type: 'string', default: '16' }, seconds: { type: 'string', default: '3' } },
});
const C = Number(values.concurrency);
const SECONDS = Number(values.seconds);

const row = (id: string): ActionRecord => ({
  requestId: id,
  at: new Date(),
  agent: 'bench-bot',
  front: 'aws',
  service: 'dynamodb',
  operation: 'GetItem',
  scopes: [{ action: 'dynamodb:GetItem', resource: 'arn:aws:dynamodb:us-east-1:123456789012:table/t' }],
  outcome: 'allowed',
  policyReasons: ['reads-allowed'],
  upstreamStatus: undefined,
  latencyMs: 0.3,
  grantId: undefined,
  approvalId: undefined,
  error: undefined,
  requestHash: 'ab'.repeat(32),
});

async function arm(name: 'async' | 'intent'): Promise<{ rps: number; p50: number; p99: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-ledger-'));
  const store = SqliteStore.open({ path: join(dir, 'a.sqlite'), ledgerKey: randomBytes(32) });
  const lat: number[] = [];
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  const worker = async (w: number) => {
    while (performance.now() < end) {
      const id = `req_${w}_${n++}`;
      const t0 = performance.now();
      if (name === 'intent') await store.recordIntent({ ...row(id), phase: 'intent' });
      await sleep(0.2);
      if (name === 'intent')
        void store.recordOutcome({
          requestId: id,
          at: new Date(),
          agent: 'bench-bot',
          grantId: undefined,
          approvalId: undefined,
          outcome: undefined,
          upstreamStatus: 200,
          latencyMs: 0.3,
          error: undefined,
        });
      else void store.recordAction({ ...row(id), upstreamStatus: 200 });
      lat.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: C }, (_, w) => worker(w)));
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  return { rps: lat.length / SECONDS, p50: q(0.5), p99: q(0.99) };
}

// Interleaved rounds so neither arm gets the warmer disk or JIT.
const results: Record<'async' | 'intent', { rps: number; p50: number; p99: number }[]> = {
  async: [],
  intent: [],
};
for (let round = 0; round < 2; round++)
  for (const name of ['async', 'intent'] as const) results[name].push(await arm(name));
const best = (name: 'async' | 'intent') => results[name].reduce((a, b) => (b.rps > a.rps ? b : a));
const a = best('async');
const i = best('intent');
const f = (x: number) => x.toFixed(3);
console.log(`concurrency ${C}, ${SECONDS} s per arm, best of 2 interleaved rounds`);
console.log(`async  (baseline): ${Math.round(a.rps)} req/s, p50 ${f(a.p50)} ms, p99 ${f(a.p99)} ms`);
console.log(`intent (durable) : ${Math.round(i.rps)} req/s, p50 ${f(i.p50)} ms, p99 ${f(i.p99)} ms`);
console.log(
  `ratio intent/async: throughput ${(i.rps / a.rps).toFixed(2)}x, p50 ${(i.p50 / a.p50).toFixed(2)}x (+${f(i.p50 - a.p50)} ms), p99 ${(i.p99 / a.p99).toFixed(2)}x`,
);

/** Durable intent rows per second, one process: every row waits for its commit. */
async function rowsPerSecond(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'airlock-bench-ledger-'));
  const store = SqliteStore.open({ path: join(dir, 'a.sqlite'), ledgerKey: randomBytes(32) });
  let n = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 256 }, async (_, w) => {
      while (performance.now() < end) await store.recordIntent({ ...row(`r_${w}_${n++}`), phase: 'intent' });
    }),
  );
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return n / SECONDS;
}

const rounds: number[] = [];
for (let r = 0; r < 3; r++) rounds.push(await rowsPerSecond());
const rows = median(rounds);
console.log(
  `durable intents, 256 writers: ${Math.round(rows)} rows/s (median of ${rounds.map((x) => Math.round(x)).join(', ')})`,
);
console.log(targetLine('ledger-rows', rows / 20_000, '>=', 1.0));
