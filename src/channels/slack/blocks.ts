/**
 * What approvers see in Slack, as Block Kit (https://api.slack.com/block-kit): the channel
 * message (the six items and a Review button, never an Approve button), the review modal
 * and the message after a decision, a lapse or an expiry. Pure: no Slack calls here.
 *
 * Everything the agent controls (reason, resources, payload) is escaped for mrkdwn
 * (`&`, `<`, `>` as Slack asks) and stripped of deceptive characters, so a reason cannot
 * ping @channel, forge a link or reorder what the approver reads.
 */

import { DECEPTIVE_CHARS } from '../../core/display-text.js';
import type { AppliedGuards, Approval, DecisionRecord, Grant } from '../../core/types.js';

export type Block = Record<string, unknown>;

/** action_id of the Review button; callback_id of the modal. */
export const REVIEW_ACTION = 'airlock_review';
export const REVIEW_CALLBACK = 'airlock_review_modal';
/** block_ids of the modal's inputs (errors are reported against them). */
export const INPUT = { verdict: 'verdict', comment: 'comment', confirm: 'confirm' } as const;

export function esc(s: string): string {
  return s
    .replace(DECEPTIVE_CHARS, '')
    .replace(/[\t\n]/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

const iso = (d: Date) => `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** The six items an approver needs: agent, action, resources, reason, risk tier, waiting time. */
export function sixItems(a: Approval, guards: AppliedGuards, now: Date): string[] {
  const actions = [...new Set(a.scopes.map((s) => s.action))].join(', ');
  const resources = [...new Set(a.scopes.map((s) => s.resource))];
  const shown = resources.slice(0, 10).map((r) => `\`${esc(clip(r, 200))}\``);
  if (resources.length > 10) shown.push(`and ${resources.length - 10} more`);
  return [
    `*Agent:* ${esc(a.agent)}`,
    `*Action:* ${esc(actions)} (${esc(a.service)} ${esc(a.operation)})`,
    `*Resources:* ${shown.join(', ')}`,
    `*Reason:* ${a.reason === undefined || a.reason.trim() === '' ? '_none given_' : esc(clip(a.reason, 500))}`,
    `*Risk tier:* ${guards.risk}`,
    `*Waiting:* ${duration((now.getTime() - a.createdAt.getTime()) / 1000)} (since ${iso(a.createdAt)})`,
  ];
}

const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });
const context = (text: string): Block => ({ type: 'context', elements: [{ type: 'mrkdwn', text }] });

/** The channel message for a new held request: the six items and a Review button only. */
export function requestMessage(
  a: Approval,
  guards: AppliedGuards,
  now: Date,
): { text: string; blocks: Block[] } {
  return {
    text: `Airlock: ${a.agent} asks for ${a.operation} (${guards.risk} risk), approval ${a.id}`,
    blocks: [
      section(`:lock: *Held for approval* \`${a.id}\``),
      section(sixItems(a, guards, now).join('\n')),
      {
        type: 'actions',
        block_id: 'airlock_actions',
        elements: [
          {
            type: 'button',
            action_id: REVIEW_ACTION,
            text: { type: 'plain_text', text: 'Review' },
            value: a.id,
          },
        ],
      },
      context(
        'Review opens the full request; deciding happens there, after the review time your tier asks for.',
      ),
    ],
  };
}

/** The grant approving would create, in plain words. */
export function grantInWords(a: Approval): string {
  const scopes = a.scopes.map((s) => `${esc(s.action)} on \`${esc(s.resource)}\``).join('; ');
  return `${esc(a.agent)} may call ${scopes} for up to ${duration(a.terms.maxGrantSeconds)} after approval (exactly these actions and resources, nothing else; any number of calls until it expires or is revoked).`;
}

export interface ModalInput {
  readonly approval: Approval;
  readonly guards: AppliedGuards;
  readonly now: Date;
  readonly firstShownAt: Date;
  /** Holding policies: id and Cedar text. */
  readonly policies: readonly { id: string; text: string }[];
  readonly approvedBy: readonly string[];
  /** Carried back on submit (JSON: approval id, message channel/ts, permalink). */
  readonly privateMetadata: string;
}

export function reviewModal(m: ModalInput): Block {
  const { approval: a, guards: g } = m;
  const earliest = new Date(m.firstShownAt.getTime() + g.minReviewSeconds * 1000);
  const left = Math.ceil((earliest.getTime() - m.now.getTime()) / 1000);
  const clock =
    g.minReviewSeconds === 0
      ? 'No minimum review time for this tier.'
      : left > 0
        ? `${g.risk}-risk requests need ${g.minReviewSeconds}s of review: you opened this at ${iso(m.firstShownAt)}; an approval is accepted from ${iso(earliest)} (${left}s from now). Submitting earlier is refused.`
        : `${g.risk}-risk requests need ${g.minReviewSeconds}s of review: you opened this at ${iso(m.firstShownAt)}, the time has passed.`;
  const policies = m.policies.map((p) => `*${esc(p.id)}*\n\`\`\`${esc(clip(p.text.trim(), 1500))}\`\`\``);
  const quorum = a.terms.requirements
    .map((r) => `${esc(r.group)}: ${r.quorum} approval(s) needed`)
    .join('; ');
  const summary = clip(JSON.stringify(a.summary), 1500);
  const blocks: Block[] = [
    section(sixItems(a, g, m.now).join('\n')),
    section(`*Payload summary:*\n\`\`\`${esc(summary)}\`\`\``),
    section(`*Held by policy:*\n${policies.join('\n') || esc(a.policyReasons.join(', '))}`),
    section(`*Approving would create this grant:*\n${grantInWords(a)}`),
    context(
      `Quorum: ${quorum}${m.approvedBy.length > 0 ? ` — approved so far by ${m.approvedBy.map(esc).join(', ')}` : ''}`,
    ),
    context(clock),
    {
      type: 'input',
      block_id: INPUT.verdict,
      label: { type: 'plain_text', text: 'Decision' },
      element: {
        type: 'radio_buttons',
        action_id: INPUT.verdict,
        options: [
          { text: { type: 'plain_text', text: 'Approve' }, value: 'approve' },
          { text: { type: 'plain_text', text: 'Deny' }, value: 'deny' },
        ],
      },
    },
    {
      type: 'input',
      block_id: INPUT.comment,
      optional: !g.requireComment,
      label: { type: 'plain_text', text: 'Comment' },
      hint: {
        type: 'plain_text',
        text: g.requireComment
          ? 'Required: say what you checked (and why, if you deny).'
          : 'Required when you deny: say why.',
      },
      element: { type: 'plain_text_input', action_id: INPUT.comment, multiline: true, max_length: 2000 },
    },
  ];
  if (g.confirmText !== undefined)
    blocks.push({
      type: 'input',
      block_id: INPUT.confirm,
      optional: true,
      label: { type: 'plain_text', text: `Type ${clip(g.confirmText, 60)} to approve` },
      hint: { type: 'plain_text', text: 'Typed confirmation of the resource name (required to approve).' },
      element: { type: 'plain_text_input', action_id: INPUT.confirm, max_length: 500 },
    });
  return {
    type: 'modal',
    callback_id: REVIEW_CALLBACK,
    private_metadata: m.privateMetadata,
    title: { type: 'plain_text', text: 'Airlock review' },
    submit: { type: 'plain_text', text: 'Submit' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

/** The channel message once the approval has an outcome (or a vote short of quorum). */
export function outcomeMessage(
  a: Approval,
  guards: AppliedGuards,
  decisions: readonly DecisionRecord[],
  grant: Grant | undefined,
  now: Date,
): { text: string; blocks: Block[] } {
  const votes = decisions.map(
    (d) =>
      `• *${esc(d.approver)}* ${d.verdict === 'approve' ? 'approved' : 'denied'} via ${esc(d.channel)} at ${iso(d.decidedAt)}${d.comment === '' ? '' : `: “${esc(clip(d.comment, 500))}”`}`,
  );
  const head =
    a.status === 'approved'
      ? ':white_check_mark: *Approved*'
      : a.status === 'denied'
        ? ':no_entry: *Denied*'
        : a.status === 'expired'
          ? ':hourglass: *Expired undecided*'
          : ':hourglass_flowing_sand: *Pending* (more approvals needed)';
  const blocks: Block[] = [
    section(`${head} \`${a.id}\``),
    section(sixItems(a, guards, a.decidedAt ?? now).join('\n')),
  ];
  if (votes.length > 0) blocks.push(section(votes.join('\n')));
  if (grant !== undefined)
    blocks.push(
      section(
        `*Grant* \`${grant.id}\`: ${grant.scopes.map((s) => `${esc(s.action)} on \`${esc(s.resource)}\``).join('; ')}, expires ${iso(grant.expiresAt)}${grant.maxUses === undefined ? '' : `, at most ${grant.maxUses} use(s)`}`,
      ),
    );
  if (a.status === 'pending') blocks.push(reviewButton(a.id));
  return { text: `Airlock: approval ${a.id} is ${a.status}`, blocks };
}

/** The message once the agent's held request stopped waiting (the approval stays open). */
export function lapsedMessage(
  a: Approval,
  guards: AppliedGuards,
  now: Date,
): { text: string; blocks: Block[] } {
  return {
    text: `Airlock: the request behind ${a.id} stopped waiting; the approval stays open`,
    blocks: [
      section(
        `:double_vertical_bar: *Lapsed* \`${a.id}\`: the agent's request stopped waiting at ${iso(now)}. The approval stays open until ${iso(a.expiresAt)}; an approval now lets the agent's retry through.`,
      ),
      section(sixItems(a, guards, now).join('\n')),
      reviewButton(a.id),
    ],
  };
}

const reviewButton = (id: string): Block => ({
  type: 'actions',
  block_id: 'airlock_actions',
  elements: [
    { type: 'button', action_id: REVIEW_ACTION, text: { type: 'plain_text', text: 'Review' }, value: id },
  ],
});
