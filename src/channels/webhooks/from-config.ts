/** Webhook targets as configured (`webhooks:` in airlock.yaml), secrets read from the environment. */
import { Webhook } from 'standardwebhooks';
import type { WebhookConfig } from '../../config/load-channels.js';
import { DEFAULT_RETRY_SECONDS, type WebhookTarget } from './dispatcher.js';

export function webhookTargets(
  config: readonly WebhookConfig[] | undefined,
  env: NodeJS.ProcessEnv = process.env,
): WebhookTarget[] {
  return (config ?? []).map((w) => {
    const secret = env[w.secretEnv];
    if (secret === undefined || secret === '')
      throw new Error(`webhooks: secret_env for ${w.url} names ${w.secretEnv}, which is not set`);
    try {
      new Webhook(secret);
    } catch {
      throw new Error(
        `webhooks: ${w.secretEnv} must hold a Standard Webhooks secret: whsec_ followed by base64`,
      );
    }
    return { url: w.url, events: w.events, secret, retrySeconds: w.retrySeconds ?? DEFAULT_RETRY_SECONDS };
  });
}
