/**
 * SQL of the webhook outbox for PostgresStore (channels/webhooks/), the same rows as
 * SQLite's (../sqlite/webhook-tables.ts). Deliveries are state, not ledger facts: the
 * events they carry are already ledger entries.
 */
import { type DeliveryRow, toDelivery } from '../sql-rows.js';
import type { WebhookAttempt, WebhookDelivery } from '../store.js';
import type { Sql } from './pool.js';

export async function webhookCursor(sql: Sql): Promise<number | undefined> {
  const r = await sql<{ seq: string | number }>('SELECT seq FROM webhook_cursor WHERE id = 1');
  return r.rows[0] === undefined ? undefined : Number(r.rows[0].seq);
}

export async function enqueue(
  sql: Sql,
  deliveries: readonly WebhookDelivery[],
  throughSeq: number,
): Promise<void> {
  for (const d of deliveries)
    await sql(
      `INSERT INTO webhook_deliveries
         (id, url, event, payload, created_at, status, attempts, next_attempt_at, last_status, last_error, delivered_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, NULL)
         ON CONFLICT (id) DO NOTHING`,
      [
        d.id,
        d.url,
        d.event,
        d.payload,
        d.createdAt.getTime(),
        d.status,
        d.attempts,
        d.nextAttemptAt.getTime(),
      ],
    );
  await sql(
    `INSERT INTO webhook_cursor (id, seq) VALUES (1, $1)
       ON CONFLICT (id) DO UPDATE SET seq = GREATEST(webhook_cursor.seq, excluded.seq)`,
    [throughSeq],
  );
}

export async function deliveries(
  sql: Sql,
  filter: { due?: Date; limit: number },
): Promise<WebhookDelivery[]> {
  const r =
    filter.due === undefined
      ? await sql<DeliveryRow>(
          'SELECT * FROM webhook_deliveries ORDER BY created_at DESC, id DESC LIMIT $1',
          [filter.limit],
        )
      : await sql<DeliveryRow>(
          `SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1
             ORDER BY next_attempt_at, id LIMIT $2`,
          [filter.due.getTime(), filter.limit],
        );
  return r.rows.map(toDelivery);
}

export async function recordAttempt(sql: Sql, id: string, a: WebhookAttempt): Promise<void> {
  await sql(
    `UPDATE webhook_deliveries SET attempts = attempts + 1, status = $1, last_status = $2, last_error = $3,
       next_attempt_at = $4, delivered_at = $5 WHERE id = $6`,
    [
      a.status,
      a.httpStatus ?? null,
      a.error ?? null,
      (a.nextAttemptAt ?? a.at).getTime(),
      a.status === 'delivered' ? a.at.getTime() : null,
      id,
    ],
  );
}
