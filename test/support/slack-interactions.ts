/**
 * Interaction requests as Slack sends them to an app's Request URL
 * (https://api.slack.com/interactivity/handling#payloads): a form body `payload=<JSON>`,
 * signed with the app's signing secret (https://api.slack.com/authentication/verifying-requests-from-slack).
 * The signing here is written from Slack's description, not with Airlock's own verifier.
 */
import { createHmac, randomUUID } from 'node:crypto';

export const TEAM = 'T0AIRLOCK';

export interface Sent {
  readonly status: number;
  readonly body: Record<string, unknown> | undefined;
}

export function signedRequest(
  secret: string,
  payload: unknown,
  timestamp = Math.floor(Date.now() / 1000),
): { body: string; headers: Record<string, string> } {
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const ts = String(timestamp);
  const sig = `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`;
  return {
    body,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': sig,
    },
  };
}

export async function send(
  apiUrl: string,
  req: { body: string; headers: Record<string, string> },
): Promise<Sent> {
  const res = await fetch(`${apiUrl}/v1/slack/interactions`, {
    method: 'POST',
    headers: req.headers,
    body: req.body,
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

/** A click on the message's Review button. */
export function reviewClick(p: {
  user: string;
  approvalId: string;
  channel: string;
  ts: string;
  trigger: string;
}) {
  return {
    type: 'block_actions',
    team: { id: TEAM, domain: 'airlock-test' },
    user: { id: p.user, team_id: TEAM },
    api_app_id: 'A0AIRLOCK',
    trigger_id: p.trigger,
    channel: { id: p.channel },
    container: { type: 'message', message_ts: p.ts, channel_id: p.channel },
    message: { ts: p.ts },
    actions: [
      {
        type: 'button',
        action_id: 'airlock_review',
        block_id: 'airlock_actions',
        value: p.approvalId,
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  };
}

/** The modal submitted with these field values. */
export function submission(p: {
  user: string;
  view: Record<string, unknown>;
  verdict?: 'approve' | 'deny';
  comment?: string;
  confirm?: string;
}) {
  const values: Record<string, Record<string, unknown>> = {
    verdict: {
      verdict: {
        type: 'radio_buttons',
        selected_option: p.verdict === undefined ? null : { value: p.verdict },
      },
    },
    comment: { comment: { type: 'plain_text_input', value: p.comment ?? null } },
  };
  if (p.confirm !== undefined) values.confirm = { confirm: { type: 'plain_text_input', value: p.confirm } };
  return {
    type: 'view_submission',
    team: { id: TEAM, domain: 'airlock-test' },
    user: { id: p.user, team_id: TEAM },
    api_app_id: 'A0AIRLOCK',
    trigger_id: randomUUID(),
    view: {
      id: 'V0REVIEW',
      type: 'modal',
      callback_id: p.view.callback_id,
      private_metadata: p.view.private_metadata,
      hash: randomUUID(),
      state: { values },
    },
  };
}
