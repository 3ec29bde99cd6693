/**
 * Regenerates docs/console-queue.png, docs/console-detail.png and docs/console-record.png
 * from a live console: real OpenID sign-in, real AWS SDK writes held at the gateway,
 * Debian Chromium. Run: npm run screenshots
 */
import { resolve } from 'node:path';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { startConsoleScenario } from '../test/support/console-scenario.js';

const out = (name: string) => resolve('docs', name);

const s = await startConsoleScenario();
try {
  const { h, page } = s;
  await s.signInWithSso('dana');
  const held: Promise<unknown>[] = [];
  const agent = h.client({ reason: 'INC-77 restore order 7 deleted by the cleanup job' });
  held.push(
    agent.send(
      new PutItemCommand({
        TableName: 'orders',
        Item: {
          id: { S: 'ord-7' },
          total: { N: '129.90' },
          status: { S: 'paid' },
          card: { S: '4111111111111111' },
        },
      }),
    ),
  );
  await new Promise((r) => setTimeout(r, 300));
  held.push(
    h
      .client({ reason: 'CRM sync: add customer from signup form' })
      .send(
        new PutItemCommand({ TableName: 'customers', Item: { id: { S: 'cus-1042' }, name: { S: 'Ada' } } }),
      )
      .catch(() => undefined),
  );
  const rows = page.locator('#queue-table tbody tr');
  await rows.nth(1).waitFor({ timeout: 10_000 });
  await page.screenshot({ path: out('console-queue.png') });

  await rows
    .first()
    .getByRole('link', { name: /Review/ })
    .click();
  await page.getByRole('heading', { name: /dynamodb:PutItem/ }).waitFor();
  await page.getByLabel(/Comment/).fill('Checked INC-77: restores the order deleted by the cleanup job');
  await page.getByLabel('Type “orders” to confirm').fill('orders');
  await page.screenshot({ path: out('console-detail.png'), fullPage: true });

  await page.locator('#review-clock.ready').waitFor({ timeout: 8000 });
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL(/#\/record\//);
  await held[0];
  await agent.send(
    new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'ord-7' }, total: { N: '129.90' } } }),
  );
  await agent
    .send(new PutItemCommand({ TableName: 'ledger', Item: { id: { S: 'adj-1' } } }))
    .catch(() => undefined);
  await new Promise((r) => setTimeout(r, 100));
  await page.reload();
  await page.locator('#actions tbody tr').first().waitFor();
  await page.screenshot({ path: out('console-record.png'), fullPage: true });
  process.stdout.write('wrote docs/console-queue.png, docs/console-detail.png, docs/console-record.png\n');
} finally {
  await s.close();
}
