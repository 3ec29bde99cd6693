/**
 * The `slack:` and `webhooks:` sections (docs/SLACK.md, docs/WEBHOOKS.md). Secrets are
 * never in the file: the config names the environment variables that hold them, and
 * `airlock serve` refuses to start when one is unset. Same rules as load.ts.
 */
import { isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { isHttpUrl, type Reader } from './load.js';

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

export function readSlack(r: Reader, root: YAMLMap): SlackConfig | undefined {
  const s = r.map(root, 'slack');
  if (s === undefined) return undefined;
  r.onlyKeys(s, ['bot_token_env', 'signing_secret_env', 'channels', 'api_url'], 'slack.');
  const env = (key: string): string => {
    const v = r.str(s, key, '');
    if (!ENV_RE.test(v))
      r.problem(s, key, `slack.${key} must name an environment variable, e.g. AIRLOCK_SLACK_BOT_TOKEN`);
    return v;
  };
  const botTokenEnv = env('bot_token_env');
  const signingSecretEnv = env('signing_secret_env');
  const apiUrl = r.str(s, 'api_url', 'https://slack.com/api/');
  if (!isHttpUrl(apiUrl)) r.problem(s, 'api_url', 'slack.api_url must be an http(s) URL');
  const channels: Record<string, string> = {};
  const ch = r.map(s, 'channels');
  if (ch === undefined || ch.items.length === 0)
    r.problem(
      s,
      'channels',
      'slack.channels must map approver groups to Slack channel ids, e.g. dba: C0123ABCD',
    );
  for (const pair of ch?.items ?? []) {
    const group = isScalar(pair.key) ? String(pair.key.value) : '';
    const value = pair.value as Node | null;
    if (!isScalar(value) || typeof value.value !== 'string' || !CHANNEL_RE.test(value.value)) {
      r.problem(
        ch as YAMLMap,
        group,
        `slack.channels.${group} must be a Slack channel id such as C0123ABCD (not a #name)`,
      );
      continue;
    }
    channels[group] = value.value;
  }
  return { botTokenEnv, signingSecretEnv, channels, apiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/` };
}

export function readWebhooks(r: Reader, root: YAMLMap): WebhookConfig[] {
  const node = root.get('webhooks', true) as Node | undefined;
  if (node === undefined) return [];
  if (!isSeq(node)) {
    r.problem(root, 'webhooks', 'webhooks must be a list of {url, events, secret_env}');
    return [];
  }
  const out: WebhookConfig[] = [];
  for (const item of node.items) {
    if (!isMap(item)) {
      r.problem(root, 'webhooks', 'each webhooks entry must be a mapping {url, events, secret_env}');
      continue;
    }
    r.onlyKeys(item, ['url', 'events', 'secret_env', 'retry_seconds'], 'webhooks[].');
    const url = r.str(item, 'url', '');
    if (!isHttpUrl(url)) r.problem(item, 'url', 'webhooks[].url must be an http(s) URL');
    const secretEnv = r.str(item, 'secret_env', '');
    if (!ENV_RE.test(secretEnv))
      r.problem(
        item,
        'secret_env',
        'webhooks[].secret_env must name an environment variable holding a whsec_ secret',
      );
    const events: WebhookEvent[] = [];
    const ev = item.get('events', true) as Node | undefined;
    if (!isSeq(ev) || ev.items.length === 0) {
      r.problem(item, 'events', `webhooks[].events must list events: ${WEBHOOK_EVENTS.join(', ')}`);
    } else {
      for (const e of ev.items) {
        const v = isScalar(e) ? String(e.value) : '';
        if ((WEBHOOK_EVENTS as readonly string[]).includes(v)) events.push(v as WebhookEvent);
        else
          r.problem(
            item,
            'events',
            `unknown webhook event "${v}" (expected one of: ${WEBHOOK_EVENTS.join(', ')})`,
          );
      }
    }
    let retrySeconds: number[] | undefined;
    const retry = item.get('retry_seconds', true) as Node | undefined;
    if (retry !== undefined) {
      retrySeconds = [];
      const ok =
        isSeq(retry) &&
        retry.items.length <= 20 &&
        retry.items.every(
          (x) =>
            isScalar(x) &&
            Number.isInteger(x.value) &&
            (x.value as number) >= 1 &&
            (x.value as number) <= 86400,
        );
      if (ok) retrySeconds = retry.items.map((x) => Number((x as { value: unknown }).value));
      else
        r.problem(
          item,
          'retry_seconds',
          'webhooks[].retry_seconds must be a list of at most 20 waits of 1 to 86400 seconds',
        );
    }
    out.push({ url, events, secretEnv, retrySeconds });
  }
  return out;
}
