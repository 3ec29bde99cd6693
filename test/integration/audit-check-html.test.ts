/**
 * The HTML report in real headless Chromium (Debian /usr/bin/chromium via playwright-core):
 * it renders, every chart has its data marks, links reach the record detail, and the page
 * makes no request at all, even with its CSP removed and hostile text in an import.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { openMasterKey, openStore } from '../../src/app.js';
import { recordsFromLedger } from '../../src/audit-check/from-ledger.js';
import { importRecords } from '../../src/audit-check/import.js';
import { DEFAULT_THRESHOLDS } from '../../src/audit-check/record.js';
import { renderHtml } from '../../src/audit-check/render-html.js';
import { buildReport, type CheckReport } from '../../src/audit-check/report.js';
import { loadConfig } from '../../src/config/load.js';
import { writeScenarioConfig } from '../support/audit-ledger.js';
import { launchChromium } from '../support/chromium.js';

const NOW = new Date('2026-06-01T00:00:00Z');

describe('audit check HTML report in Chromium', () => {
  let dir: string;
  let browser: Browser;
  let html: string;
  let report: CheckReport;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'airlock-check-html-'));
    const config = loadConfig(await writeScenarioConfig(dir));
    const store = openStore(config, openMasterKey(config));
    const { records, orphans } = recordsFromLedger(await store.ledger({}));
    await store.close();
    report = buildReport({
      source: 'generated ledger',
      records,
      orphans,
      thresholds: DEFAULT_THRESHOLDS,
      filter: {},
      now: NOW,
    });
    html = renderHtml(report);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a file and records every request other than the file itself. */
  async function open(
    file: string,
    text: string,
  ): Promise<{ page: Page; requests: string[]; errors: string[] }> {
    const path = join(dir, file);
    writeFileSync(path, text);
    const url = pathToFileURL(path).href;
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url, { waitUntil: 'load' });
    return { page, requests, errors };
  }

  const marks = (page: Page, label: string, sel: string) =>
    page.locator(`svg[aria-label="${label}"] ${sel}.mark`).count();

  it('renders every chart with its data and makes no request', async () => {
    const { page, requests, errors } = await open('report.html', html);
    try {
      assert.match(await page.title(), /audit check/);
      assert.match((await page.locator('.gate').textContent()) ?? '', /GATE FAILED/);
      // 23 scored approvals, one decision each: one dot per decision.
      assert.equal(await marks(page, 'Time to decision, per approver', 'circle'), 23);
      const red = await page
        .locator('svg[aria-label="Time to decision, per approver"] circle.mark[fill="#ef4444"]')
        .count();
      assert.equal(red, 7, 'five stamps, the fast one and the unread one');
      assert.equal(await marks(page, 'Share of approvals under the rubber-stamp threshold', 'path'), 2);
      // One stacked segment per (day, item) with failures, and there are some on most days.
      const segments = report.timeline.reduce(
        (n, b) => n + Object.values(b.failing).filter((v) => v > 0).length,
        0,
      );
      assert.ok(segments >= 10);
      assert.equal(await marks(page, 'Records failing each item, per day', 'rect'), segments);
      // Pass and fail bar per item (every item has both here).
      assert.equal(await marks(page, 'Records passing and failing each item', 'rect'), 12);
      for (const svg of await page.locator('svg').all()) {
        const box = await svg.boundingBox();
        assert.ok(box && box.width > 100 && box.height > 50, 'chart laid out with a real size');
      }
      assert.equal(await page.locator('section.rec').count(), 20, 'a detail section per failing record');
      assert.deepEqual(requests, []);
      assert.deepEqual(errors, []);
      await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    } finally {
      await page.close();
    }
  });

  it('links the worst records to their detail', async () => {
    const { page } = await open('report.html', html);
    try {
      const link = page.locator('table a[href^="#rec-"]').first();
      const id = (await link.textContent()) ?? '';
      const href = (await link.getAttribute('href')) ?? '';
      await link.click();
      assert.equal(new URL(page.url()).hash, href);
      const target = page.locator(`section${href}`);
      assert.equal(await target.locator('h3').textContent(), id);
      assert.ok(await target.isVisible());
      const box = await target.boundingBox();
      assert.ok(box && box.y >= 0 && box.y < 900, 'scrolled into view');
      assert.match((await target.textContent()) ?? '', /decisions\.rubber-stamp-approver/);
    } finally {
      await page.close();
    }
  });

  it('escapes hostile import text and loads nothing even without its CSP', async () => {
    const csv = join(dir, 'hostile.csv');
    writeFileSync(
      csv,
      'id,who,reason,status,by\n"x<script>alert(1)</script>",bot,"<img src=http://127.0.0.1:9/x onerror=alert(1)>",approved,"<a href=//evil>eve</a>"\n',
    );
    const mapping = join(dir, 'hostile.yaml');
    writeFileSync(
      mapping,
      'fields: {id: id, requester: who, reason: reason, status: status, approver: by}\n',
    );
    const { source, records, orphans } = importRecords(csv, mapping);
    const out = renderHtml(
      buildReport({ source, records, orphans, thresholds: DEFAULT_THRESHOLDS, filter: {}, now: NOW }),
    );
    const noCsp = out.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
    assert.notEqual(noCsp, out);
    const { page, requests, errors } = await open('hostile.html', noCsp);
    try {
      assert.equal(await page.locator('img').count(), 0);
      assert.equal(await page.locator('script').count(), 0);
      assert.equal(await page.locator('a[href="//evil"]').count(), 0);
      assert.match((await page.locator('section.rec').first().textContent()) ?? '', /<img src=http/);
      assert.deepEqual(requests, []);
      assert.deepEqual(errors, []);
    } finally {
      await page.close();
    }
    assert.ok(readFileSync(join(dir, 'hostile.html'), 'utf8').includes('&lt;script&gt;'));
  });
});
