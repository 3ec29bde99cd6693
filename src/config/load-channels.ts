/**
 * The `slack:` and `webhooks:` sections (docs/SLACK.md, docs/WEBHOOKS.md). Secrets are
 * never in the file: the config names the environment variables that hold them, and
 * `airlock serve` refuses to start when one is unset.
 */
import { z } from 'zod';
import { int, isHttpUrl, obj, scalars, text } from './schema-fields.js';

export interface SlackConfig {
  readonly botTokenEnv: string;
  readonly signingSecretEnv: string;
  /** Approver group → Slack channel id its held requests are posted to. */
  readonly channels: Readonly<Record<string, string>>;
  /** Slack Web API base URL (default https://slack.com/api/; a stand-in in tests). */
  readonly apiUrl: string;
}

/** Ledger facts a webhook may subscribe to (docs/webhooks.schema.json). */
export const WEBHOOK_EVENTS = [
  'approval.requested',
  'approval.decided',
  'approval.resolved',
  'grant.issued',
  'grant.revoked',
  'action.denied',
  'approver.revoked',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookConfig {
  readonly url: string;
  readonly events: readonly WebhookEvent[];
  /** Environment variable holding the Standard Webhooks secret (`whsec_…`). */
  readonly secretEnv: string;
  /** Seconds to wait before each retry; absent: Standard Webhooks' suggested schedule. */
  readonly retrySeconds: readonly number[] | undefined;
}

const ENV_RE = /^[A-Z_][A-Z0-9_]*$/;
const CHANNEL_RE = /^[CG][A-Z0-9]{2,}$/;

const slackEnv = (key: string) =>
  text(`slack.${key} must name an environment variable, e.g. AIRLOCK_SLACK_BOT_TOKEN`, ENV_RE);

export const SLACK_SCHEMA = obj({
  bot_token_env: slackEnv('bot_token_env').describe('environment variable holding the bot token (xoxb-…)'),
  signing_secret_env: slackEnv('signing_secret_env').describe(
    'environment variable holding the signing secret',
  ),
  channels: z
    .record(
      z.string(),
      text(
        (p) =>
          `slack.channels.${String(p.at(-1))} must be a Slack channel id such as C0123ABCD (not a #name)`,
        CHANNEL_RE,
      ),
      { error: 'slack.channels must map approver groups to Slack channel ids, e.g. dba: C0123ABCD' },
    )
    .refine((c) => Object.keys(c).length > 0, {
      error: 'slack.channels must map approver groups to Slack channel ids, e.g. dba: C0123ABCD',
    })
    .describe('approver group → id of the channel its held requests are posted to'),
  api_url: text('slack.api_url must be an http(s) URL', isHttpUrl)
    .prefault('https://slack.com/api/')
    .describe('Slack Web API base URL'),
}).describe('approvals in Slack (docs/SLACK.md)');

const RETRY = 'webhooks[].retry_seconds must be a list of at most 20 waits of 1 to 86400 seconds';
const EVENTS = `webhooks[].events must list events: ${WEBHOOK_EVENTS.join(', ')}`;

export const WEBHOOK_SCHEMA = obj(
  {
    url: text('webhooks[].url must be an http(s) URL', isHttpUrl).describe('where events are POSTed'),
    events: scalars(
      z.enum(WEBHOOK_EVENTS, {
        error: (iss) =>
          `unknown webhook event "${typeof iss.input === 'string' || typeof iss.input === 'number' ? iss.input : ''}" (expected one of: ${WEBHOOK_EVENTS.join(', ')})`,
      }),
      EVENTS,
      { min: 1 },
    ).describe('the ledger facts this endpoint subscribes to'),
    secret_env: text(
      'webhooks[].secret_env must name an environment variable holding a whsec_ secret',
      ENV_RE,
    ).describe('environment variable holding the Standard Webhooks secret (whsec_…)'),
    retry_seconds: scalars(int(1, 86400, RETRY), RETRY, { max: 20 })
      .optional()
      .describe("seconds before each retry (absent: Standard Webhooks' schedule, 5 s … 10 h)"),
  },
  'each webhooks entry must be a mapping {url, events, secret_env}',
);

export const WEBHOOKS_SCHEMA = z
  .array(WEBHOOK_SCHEMA, { error: 'webhooks must be a list of {url, events, secret_env}' })
  .describe('signed event deliveries (docs/WEBHOOKS.md)');

export function buildSlack(s: z.output<typeof SLACK_SCHEMA> | null | undefined): SlackConfig | undefined {
  if (s === undefined || s === null) return undefined;
  return {
    botTokenEnv: s.bot_token_env,
    signingSecretEnv: s.signing_secret_env,
    channels: s.channels,
    apiUrl: s.api_url.endsWith('/') ? s.api_url : `${s.api_url}/`,
  };
}

export function buildWebhooks(w: z.output<typeof WEBHOOKS_SCHEMA> | null | undefined): WebhookConfig[] {
  return (w ?? []).map((h) => ({
    url: h.url,
    events: h.events,
    secretEnv: h.secret_env,
    retrySeconds: h.retry_seconds,
  }));
}
