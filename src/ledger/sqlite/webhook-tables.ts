/**
 * SQL of the webhook outbox for SqliteStore (channels/webhooks/). Deliveries are state,
 * not ledger facts: the events they carry are already ledger entries.
 */
import { type DeliveryRow, toDelivery } from '../sql-rows.js';
import type { WebhookAttempt, WebhookDelivery } from '../store.js';
import type { Sql } from './statement-cache.js';

export function webhookCursor(sql: Sql): number | undefined {
  return sql<[], { seq: number }>('SELECT seq FROM webhook_cursor WHERE id = 1').get()?.seq;
}

export function enqueue(sql: Sql, deliveries: readonly WebhookDelivery[], throughSeq: number): void {
  const insert = sql(
    `INSERT OR IGNORE INTO webhook_deliveries
       (id, url, event, payload, created_at, status, attempts, next_attempt_at, last_status, last_error, delivered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, NULL)`,
  );
  for (const d of deliveries)
    insert.run(
      d.id,
      d.url,
      d.event,
      d.payload,
      d.createdAt.getTime(),
      d.status,
      d.attempts,
      d.nextAttemptAt.getTime(),
    );
  sql(
    'INSERT INTO webhook_cursor (id, seq) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET seq = MAX(seq, excluded.seq)',
  ).run(throughSeq);
}

export function deliveries(sql: Sql, filter: { due?: Date; limit: number }): WebhookDelivery[] {
  const rows =
    filter.due === undefined
      ? sql<[number], DeliveryRow>(
          'SELECT * FROM webhook_deliveries ORDER BY created_at DESC, id DESC LIMIT ?',
        ).all(filter.limit)
      : sql<[number, number], DeliveryRow>(
          `SELECT * FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
             ORDER BY next_attempt_at, id LIMIT ?`,
        ).all(filter.due.getTime(), filter.limit);
  return rows.map(toDelivery);
}

export function recordAttempt(sql: Sql, id: string, a: WebhookAttempt): void {
  sql(
    `UPDATE webhook_deliveries SET attempts = attempts + 1, status = ?, last_status = ?, last_error = ?,
       next_attempt_at = ?, delivered_at = ? WHERE id = ?`,
  ).run(
    a.status,
    a.httpStatus ?? null,
    a.error ?? null,
    (a.nextAttemptAt ?? a.at).getTime(),
    a.status === 'delivered' ? a.at.getTime() : null,
    id,
  );
}
