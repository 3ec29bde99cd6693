/**
 * A webhook endpoint for tests that verifies every delivery with the standardwebhooks
 * library (signature, and its own five-minute timestamp tolerance) and answers with the
 * status the test sets. It keeps every request, verified or not.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  readonly id: string;
  readonly verified: boolean;
  readonly answered: number;
  readonly payload: Record<string, unknown> | undefined;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: Received[];
  /** Status for the next requests (default 200). */
  answer: number;
  waitFor(pred: (r: Received[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secret: string): Promise<WebhookReceiver> {
  const wh = new Webhook(secret);
  const received: Received[] = [];
  const state = { answer: 200 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let payload: Record<string, unknown> | undefined;
      let verified = false;
      try {
        payload = wh.verify(body, req.headers as Record<string, string>) as Record<string, unknown>;
        verified = true;
      } catch {
        payload = undefined;
      }
      const answered = verified ? state.answer : 401;
      received.push({ id: String(req.headers['webhook-id']), verified, answered, payload });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/airlock`,
    received,
    get answer() {
      return state.answer;
    },
    set answer(v: number) {
      state.answer = v;
    },
    async waitFor(pred, timeoutMs = 8000) {
      const deadline = Date.now() + timeoutMs;
      while (!pred(received)) {
        if (Date.now() > deadline)
          throw new Error(
            `webhook receiver: condition not met; got ${JSON.stringify(received.map((r) => [r.id, r.payload?.type, r.answered]))}`,
          );
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
