/**
 * The console in real headless Chromium against a real OpenID provider and a real
 * AWS SDK client: SSO sign-in, a held write appearing live, an approve refused
 * before the minimum review time, then approved with typed confirmation, and the
 * record showing every action, with the out-of-grant attempt highlighted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { type ConsoleScenario, startConsoleScenario } from '../support/console-scenario.js';
import { waitForPending } from '../support/harness.js';

describe('approver console in Chromium', () => {
  let s: ConsoleScenario;
  before(async () => {
    s = await startConsoleScenario();
  });
  after(async () => {
    await s?.close();
  });

  it('signs in through SSO, decides a held SDK write under the guards, and shows the record', async () => {
    const { h, page } = s;
    await s.signInWithSso('dana');
    assert.match((await page.locator('#who').textContent()) ?? '', /dana \(dba, sre\)/);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'airlock_session');
    assert.ok(session?.httpOnly, 'session cookie is HttpOnly');
    assert.equal(session?.sameSite, 'Strict');

    // A write from the real SDK is held at the gateway and appears in the open queue by itself.
    const agent = h.client({ reason: 'INC-77 restore order 7' });
    const put = agent.send(
      new PutItemCommand({ TableName: 'orders', Item: { id: { S: 'ui-7' }, total: { N: '7' } } }),
    );
    const row = page.locator('#queue-table tbody tr');
    await row.first().waitFor({ timeout: 10_000 });
    assert.match(await page.title(), /^\(1\) Queue/);
    assert.match((await row.first().textContent()) ?? '', /billing-bot.*dynamodb:PutItem.*orders.*critical/);

    await row
      .first()
      .getByRole('link', { name: /Review/ })
      .click();
    await page.getByRole('heading', { name: /dynamodb:PutItem/ }).waitFor();
    for (const text of ['Requester', 'Request', 'Reason', 'Why it was held', 'The grant an approval becomes'])
      assert.ok(await page.getByRole('heading', { name: text, exact: true }).isVisible(), text);
    assert.ok(await page.getByText('INC-77 restore order 7').isVisible());
    assert.ok(await page.getByText('orders-writes-critical').first().isVisible());

    // Too early: the server refuses, the request stays held.
    await page.getByLabel(/Comment/).fill('Checked INC-77: restores the deleted order');
    await page.getByLabel('Type “orders” to confirm').fill('orders');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.locator('#decide-error').filter({ hasText: 'review-too-short' }).waitFor();
    const id = page.url().split('/').at(-1) ?? '';
    const still = await h.api('GET', '/v1/approvals?status=pending', h.approvers.bob ?? '');
    assert.ok(
      (still.body.approvals as { id: string }[]).some((a) => a.id === id),
      'still pending',
    );
    const before = await h.direct.send(
      new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'ui-7' } } }),
    );
    assert.equal(before.Item, undefined, 'nothing written yet');

    // What approving lets through is said before the click: critical risk offers the exact
    // request first; the approver widens it here (so there is a live grant to revoke below).
    const exact = page.getByLabel(
      'This approval lets billing-bot run PutItem on orders once, for this exact item',
    );
    assert.ok(await exact.isChecked(), 'exact is the default for critical risk');
    await page.getByLabel(/^This approval lets billing-bot run any PutItem on orders for /).check();

    // After the minimum review: approved, and the held SDK call completes.
    await page.locator('#review-clock.ready').waitFor({ timeout: 8000 });
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(/#\/record\//);
    await put;
    const written = await h.direct.send(
      new GetItemCommand({ TableName: 'orders', Key: { id: { S: 'ui-7' } } }),
    );
    assert.equal(written.Item?.total?.N, '7');

    // An attempt outside the grant while it is live (no policy permits writes to ledger).
    await assert.rejects(
      agent.send(new PutItemCommand({ TableName: 'ledger', Item: { id: { S: 'x' } } })),
      /AccessDenied|denied/i,
    );
    await new Promise((r) => setTimeout(r, 50));
    await page.reload();
    const actions = page.locator('#actions tbody tr');
    await actions.first().waitFor();
    const texts = await actions.allTextContents();
    assert.ok(
      texts.some((t) => /dynamodb:PutItem.*orders.*approved.*200/.test(t)),
      texts.join('\n'),
    );
    const outside = page.locator('#actions tbody tr.out-of-grant');
    assert.equal(await outside.count(), 1);
    assert.match((await outside.textContent()) ?? '', /ledger.*denied — outside grant/);
    const decisions = (await page.locator('#item-4').locator('..').textContent()) ?? '';
    assert.match(decisions, /dana.*approve.*console/);

    // Revoke the grant from the page.
    page.once('dialog', (d) => {
      d.accept().catch(() => undefined);
    });
    await page.getByRole('button', { name: 'Revoke grant' }).click();
    await page.getByText(/revoked by dana/).waitFor();
    const grants = await h.api('GET', '/v1/grants?agent=billing-bot', h.approvers.bob ?? '');
    assert.ok((grants.body.grants as { revokedBy?: string }[]).every((g) => g.revokedBy === 'dana'));
  });

  it('follows an open record live: an action under its grant appears, then the revocation', async () => {
    const { h, page } = s;
    const bob = h.approvers.bob ?? '';
    const agent = h.client({ reason: 'CRM-12 merge duplicate customers' });
    const first = agent.send(new PutItemCommand({ TableName: 'customers', Item: { id: { S: 'c-1' } } }));
    const held = await waitForPending(h, bob, 'PutItem');
    const id = String(held.id);
    await h.api('GET', `/v1/approvals/${id}`, bob);
    const approved = await h.api('POST', `/v1/approvals/${id}/approve`, bob, {
      comment: 'c-1 is the duplicate named in CRM-12',
      breadth: 'scope',
    });
    assert.equal(approved.status, 200, JSON.stringify(approved.body));
    await first;

    await page.goto(`${h.airlock.apiUrl}/console/#/record/${id}`);
    const rows = page.locator('#actions tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 1);
    // A reload or navigation would drop this mark: it proves the page changed in place.
    await page.evaluate(() => {
      (globalThis as unknown as { stayed: boolean }).stayed = true;
    });
    const stayed = () => page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed === true);

    // A second write under the grant, by the real SDK through the gateway: it shows up by itself.
    await agent.send(new PutItemCommand({ TableName: 'customers', Item: { id: { S: 'c-2' } } }));
    await rows.nth(1).waitFor({ timeout: 10_000 });
    const texts = await rows.allTextContents();
    assert.equal(texts.length, 2, texts.join('\n'));
    assert.ok(
      texts.every((t) => /dynamodb:PutItem.*customers.*(approved|allowed).*200/.test(t)),
      texts.join('\n'),
    );
    assert.match((await page.locator('#item-5').locator('..').textContent()) ?? '', /Uses2/);
    assert.equal(await stayed(), true, 'the page was not reloaded');

    // Revoked elsewhere (the approver API, as the CLI does): the open page says so.
    const grantId = String((approved.body.grant as { id?: string } | undefined)?.id ?? '');
    const revoked = await h.api('POST', `/v1/grants/${grantId}/revoke`, bob);
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    await page.getByText(/revoked by bob/).waitFor({ timeout: 10_000 });
    assert.equal(await page.getByRole('button', { name: 'Revoke grant' }).count(), 0);
    assert.equal(await stayed(), true, 'the page was not reloaded');
  });

  it('shows agent text with control characters and bidi overrides escaped, never reordered', async () => {
    const { h, page } = s;
    const tricky = `user-1\u202Egnp.exe\u0085${'\u001b'}[2K`;
    const del = h
      .client({ reason: 'INC-78 cleanup' })
      .send(new DeleteItemCommand({ TableName: 'orders', Key: { id: { S: tricky } } }))
      .then(
        () => 'deleted',
        (err: Error) => err.name,
      );
    await page.goto(`${h.airlock.apiUrl}/console/`);
    const row = page.locator('#queue-table tbody tr').filter({ hasText: 'DeleteItem' });
    await row.first().waitFor({ timeout: 10_000 });
    await row
      .first()
      .getByRole('link', { name: /Review/ })
      .click();
    const pre = page.getByLabel('Payload summary');
    await pre.waitFor();
    const text = (await pre.textContent()) ?? '';
    assert.ok(!text.includes('\u202E'), 'a raw bidi override reached the page');
    assert.match(text, /user-1\\u\{202e\}gnp\.exe\\u\{85\}/);
    const id = page.url().split('/').at(-1) ?? '';
    const denied = await h.api('POST', `/v1/approvals/${id}/deny`, h.approvers.alice ?? '', {
      comment: 'display check',
    });
    assert.equal(denied.status, 200, JSON.stringify(denied.body));
    assert.equal(await del, 'AccessDeniedException');
  });

  for (const [login, why] of [
    ['eve', /in no approver group/],
    // The IdP vouches for a user named like the agent, even in group dba: still refused.
    ['billing-bot', /is an agent identity; agents cannot sign in/],
  ] as const) {
    it(`refuses SSO sign-in of ${login}`, async () => {
      const ctx = await s.browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${s.h.airlock.apiUrl}/console/`);
      await page.getByRole('link', { name: 'Sign in with SSO' }).click();
      await page.locator('input[name="login"]').fill(login);
      await page.locator('input[name="password"]').fill('x');
      await page.locator('button[type="submit"]').click();
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByRole('heading', { name: 'Sign-in refused' }).waitFor();
      assert.match((await page.textContent('main')) ?? '', why);
      assert.equal((await ctx.cookies()).filter((c) => c.name === 'airlock_session').length, 0);
      await ctx.close();
    });
  }
});
