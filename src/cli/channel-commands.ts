/**
 * `airlock approvers link NAME --slack USER_ID` and `airlock webhooks deliveries`:
 * local commands on the store named by the config (docs/SLACK.md, docs/WEBHOOKS.md).
 */
import { openMasterKey, openStore } from '../app.js';
import type { AirlockConfig } from '../config/config.js';
import { StoreConflict } from '../ledger/store.js';
import { CliError } from './cli-error.js';
import { table } from './print.js';

export async function channelCommand(
  cfg: AirlockConfig,
  cmd: string,
  arg: string | undefined,
  values: { json?: boolean; slack?: string },
  out: (v: unknown) => void,
): Promise<number> {
  const store = openStore(cfg, openMasterKey(cfg));
  try {
    if (cmd === 'approvers link') {
      if (arg === undefined || arg === '') throw new CliError('missing approver name', 2);
      const user = values.slack ?? '';
      // Slack user ids: U… or W… (Enterprise Grid), upper-case letters and digits.
      if (!/^[UW][A-Z0-9]{2,}$/.test(user))
        throw new CliError('--slack must be a Slack user id such as U0123ABCD (profile → Copy member ID)', 2);
      try {
        if (!(await store.linkApproverSlack(arg, user, new Date())))
          throw new CliError(`no active approver named ${arg}`, 1);
      } catch (err) {
        if (err instanceof StoreConflict) throw new CliError(err.message, 1);
        throw err;
      }
      out(values.json ? { approver: arg, slack: user } : `approver ${arg} linked to Slack user ${user}`);
      return 0;
    }
    const list = await store.webhookDeliveries({ limit: 200 });
    if (values.json) {
      out(list);
      return 0;
    }
    out(
      table(
        list.map((d) => ({
          id: d.id,
          event: d.event,
          url: d.url,
          status: d.status,
          attempts: d.attempts,
          last: d.lastStatus === undefined ? d.lastError : `HTTP ${d.lastStatus}`,
          when: (d.deliveredAt ?? d.nextAttemptAt).toISOString(),
        })),
        ['id', 'event', 'url', 'status', 'attempts', 'last', 'when'],
      ),
    );
    return 0;
  } finally {
    await store.close();
  }
}
