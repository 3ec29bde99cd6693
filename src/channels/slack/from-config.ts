/** The Slack channel as configured (`slack:` in airlock.yaml), secrets read from the environment. */
import type { Decider } from '../../approvals/decide.js';
import type { GuardConfig } from '../../approvals/guards.js';
import type { SlackConfig } from '../../config/load-channels.js';
import type { Store } from '../../ledger/store.js';
import { SlackChannel } from './slack-channel.js';

export function slackFromConfig(
  config: SlackConfig | undefined,
  deps: {
    store: Store;
    decider: Decider;
    guards: GuardConfig | undefined;
    policy: (id: string) => { id: string; text: string } | undefined;
    log: (line: string) => void;
    env?: NodeJS.ProcessEnv;
  },
): SlackChannel | undefined {
  if (config === undefined) return undefined;
  const env = deps.env ?? process.env;
  const botToken = env[config.botTokenEnv];
  const signingSecret = env[config.signingSecretEnv];
  if (botToken === undefined || botToken === '')
    throw new Error(
      `slack.bot_token_env names ${config.botTokenEnv}, which is not set (the bot's xoxb- token)`,
    );
  if (signingSecret === undefined || signingSecret === '')
    throw new Error(
      `slack.signing_secret_env names ${config.signingSecretEnv}, which is not set (the app's signing secret)`,
    );
  return new SlackChannel({
    ...deps,
    botToken,
    signingSecret,
    channels: config.channels,
    apiUrl: config.apiUrl,
  });
}
