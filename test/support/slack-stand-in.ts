/**
 * A strict stand-in for the Slack Web API methods Airlock calls (chat.postMessage,
 * chat.update, chat.postEphemeral, chat.getPermalink, views.open), spoken the way Slack
 * speaks them (https://api.slack.com/web): POST /api/METHOD with a form or JSON body,
 * the bot token as `Authorization: Bearer`, HTTP 200 with `{ok: false, error}` on a
 * refusal. It checks the token (not_authed / invalid_auth), channels, message ts,
 * trigger ids (issued by `click`, single use, three seconds) and the Block Kit limits
 * Airlock could hit, and records every call.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  readonly method: string;
  readonly args: Record<string, unknown>;
}

export interface SlackStandIn {
  readonly url: string;
  readonly calls: SlackCall[];
  /** Messages by `channel:ts`, as last posted or updated. */
  readonly messages: Map<string, { channel: string; ts: string; text: string; blocks: unknown[] }>;
  /** A trigger id for one click, as Slack puts in a block_actions payload. */
  trigger(): string;
  /** Waits until `n` calls of `method` were made; returns them. */
  waitFor(method: string, n?: number, timeoutMs?: number): Promise<SlackCall[]>;
  close(): Promise<void>;
}

const JSON_FIELDS = ['blocks', 'view', 'attachments'];

export async function startSlackStandIn(opts: {
  botToken: string;
  channels: readonly string[];
  team?: string;
}): Promise<SlackStandIn> {
  const calls: SlackCall[] = [];
  const messages = new Map<string, { channel: string; ts: string; text: string; blocks: unknown[] }>();
  const triggers = new Map<string, number>();
  let seq = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (body: Record<string, unknown>) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
      const raw = Buffer.concat(chunks).toString('utf8');
      const type = req.headers['content-type'] ?? '';
      let args: Record<string, unknown> = {};
      try {
        if (type.startsWith('application/json')) args = JSON.parse(raw) as Record<string, unknown>;
        else {
          for (const [k, v] of new URLSearchParams(raw))
            args[k] = JSON_FIELDS.includes(k) ? (JSON.parse(v) as unknown) : v;
        }
      } catch {
        return reply({ ok: false, error: 'invalid_json' });
      }
      const auth = req.headers.authorization;
      if (auth === undefined && args.token === undefined) return reply({ ok: false, error: 'not_authed' });
      if (auth !== `Bearer ${opts.botToken}` && args.token !== opts.botToken)
        return reply({ ok: false, error: 'invalid_auth' });
      calls.push({ method, args });
      const channel = typeof args.channel === 'string' ? args.channel : '';
      const known = opts.channels.includes(channel);
      const blocksProblem = checkBlocks(args.blocks);
      switch (method) {
        case 'chat.postMessage': {
          if (!known) return reply({ ok: false, error: 'channel_not_found' });
          if (typeof args.text !== 'string' && args.blocks === undefined)
            return reply({ ok: false, error: 'no_text' });
          if (blocksProblem) return reply({ ok: false, error: 'invalid_blocks', errors: [blocksProblem] });
          const ts = `${1_700_000_000 + ++seq}.000100`;
          const m = { channel, ts, text: String(args.text ?? ''), blocks: (args.blocks as unknown[]) ?? [] };
          messages.set(`${channel}:${ts}`, m);
          return reply({ ok: true, channel, ts, message: { ts, text: m.text, blocks: m.blocks } });
        }
        case 'chat.update': {
          const key = `${channel}:${String(args.ts)}`;
          if (!known) return reply({ ok: false, error: 'channel_not_found' });
          if (!messages.has(key)) return reply({ ok: false, error: 'message_not_found' });
          if (blocksProblem) return reply({ ok: false, error: 'invalid_blocks', errors: [blocksProblem] });
          messages.set(key, {
            channel,
            ts: String(args.ts),
            text: String(args.text ?? ''),
            blocks: (args.blocks as unknown[]) ?? [],
          });
          return reply({ ok: true, channel, ts: args.ts });
        }
        case 'chat.postEphemeral': {
          if (!known) return reply({ ok: false, error: 'channel_not_found' });
          if (typeof args.user !== 'string' || !/^[UW]/.test(args.user))
            return reply({ ok: false, error: 'user_not_in_channel' });
          return reply({ ok: true, message_ts: `${1_700_000_000 + ++seq}.000200` });
        }
        case 'chat.getPermalink': {
          const key = `${channel}:${String(args.message_ts)}`;
          if (!messages.has(key)) return reply({ ok: false, error: 'message_not_found' });
          return reply({
            ok: true,
            channel,
            permalink: `https://airlock-test.slack.com/archives/${channel}/p${String(args.message_ts).replace('.', '')}`,
          });
        }
        case 'views.open': {
          const t = String(args.trigger_id ?? '');
          const issued = triggers.get(t);
          if (issued === undefined) return reply({ ok: false, error: 'invalid_trigger_id' });
          triggers.delete(t);
          if (Date.now() - issued > 3000) return reply({ ok: false, error: 'expired_trigger_id' });
          const problem = checkView(args.view);
          if (problem)
            return reply({
              ok: false,
              error: 'invalid_arguments',
              response_metadata: { messages: [problem] },
            });
          return reply({ ok: true, view: { id: `V${++seq}`, ...(args.view as object) } });
        }
        default:
          return reply({ ok: false, error: 'unknown_method' });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/`,
    calls,
    messages,
    trigger() {
      const t = `${++seq}.${Date.now()}.trigger`;
      triggers.set(t, Date.now());
      return t;
    },
    async waitFor(method, n = 1, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = calls.filter((c) => c.method === method);
        if (found.length >= n) return found;
        if (Date.now() > deadline)
          throw new Error(`stand-in: ${found.length} ${method} call(s), wanted ${n}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The Block Kit limits Slack enforces that Airlock's messages could reach. */
function checkBlocks(blocks: unknown): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks)) return 'blocks must be an array';
  if (blocks.length > 50) return 'more than 50 blocks in a message';
  for (const b of blocks as Record<string, unknown>[]) {
    if (typeof b.type !== 'string') return 'block without a type';
    const text = (b.text as { text?: unknown } | undefined)?.text;
    if (typeof text === 'string' && text.length > 3000) return 'section text longer than 3000 characters';
    if (b.type === 'actions') {
      for (const e of (b.elements as Record<string, unknown>[]) ?? []) {
        const t = (e.text as { text?: string } | undefined)?.text ?? '';
        if (t.length > 75) return 'button text longer than 75 characters';
      }
    }
  }
  return undefined;
}

function checkView(view: unknown): string | undefined {
  if (typeof view !== 'object' || view === null) return 'view must be an object';
  const v = view as Record<string, unknown>;
  if (v.type !== 'modal') return 'view.type must be modal';
  const title = (v.title as { text?: string } | undefined)?.text ?? '';
  if (title === '' || title.length > 24) return 'title must be 1-24 characters';
  if (typeof v.private_metadata === 'string' && v.private_metadata.length > 3000)
    return 'private_metadata longer than 3000 characters';
  const blocks = v.blocks as unknown[];
  if (!Array.isArray(blocks) || blocks.length > 100) return 'a modal has at most 100 blocks';
  const hasInput = blocks.some((b) => (b as { type?: string }).type === 'input');
  if (hasInput && v.submit === undefined) return 'a modal with inputs needs a submit button';
  return checkBlocks(blocks.filter((b) => (b as { type?: string }).type !== 'input'));
}
