/**
 * Approvals in Slack without rubber stamps. Held requests are posted to their group's
 * channel (ApprovalEvents.requested); the message only offers **Review**, which opens a
 * modal and counts as this approver's first view (store.markShown starts the review
 * clock); the modal's submission goes through the one Decider with channel `slack`, so
 * every guard (review time, comment, typed confirmation, quorum, never self) is the
 * server's, whatever the client sends. A Slack user counts only once linked to an
 * approver (`airlock approvers link NAME --slack USER_ID`); group membership comes from
 * Airlock, never from who is in the channel.
 *
 * Interactivity requests (https://api.slack.com/interactivity/handling) are verified in
 * signature.ts before anything here reads them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { LogLevel, WebClient } from '@slack/web-api';
import { type DecideResult, type Decider, DecisionRefused } from '../../approvals/decide.js';
import type { ApprovalEvents } from '../../approvals/events.js';
import { appliedGuards, type GuardConfig } from '../../approvals/guards.js';
import { eligibleGroups } from '../../approvals/quorum.js';
import type { Approval } from '../../core/types.js';
import type { Store } from '../../ledger/store.js';
import {
  INPUT,
  lapsedMessage,
  outcomeMessage,
  REVIEW_ACTION,
  REVIEW_CALLBACK,
  requestMessage,
  reviewModal,
} from './blocks.js';
import { SlackVerifier } from './signature.js';

export interface SlackChannelOptions {
  readonly botToken: string;
  readonly signingSecret: string;
  /** Approver group → channel id. */
  readonly channels: Readonly<Record<string, string>>;
  readonly apiUrl: string;
  readonly store: Store;
  readonly decider: Decider;
  readonly guards: GuardConfig | undefined;
  readonly policy: ((id: string) => { id: string; text: string } | undefined) | undefined;
  readonly log: (line: string) => void;
  readonly now?: () => Date;
}

/** What the API listener hands an interaction to; it knows nothing else of Slack. */
export interface InteractionHandler {
  interaction(raw: Buffer, headers: IncomingHttpHeaders): Promise<{ status: number; body?: unknown }>;
}

interface MessageRef {
  readonly channel: string;
  readonly ts: string;
  readonly permalink: string | undefined;
}

interface Meta {
  readonly a: string;
  readonly c: string | undefined;
  readonly t: string | undefined;
  readonly p: string | undefined;
}

type Json = Record<string, unknown>;

const NOT_APPROVER =
  'You are not an Airlock approver: nothing was recorded. An Airlock admin can link your Slack account with `airlock approvers link NAME --slack YOUR_USER_ID`.';

export class SlackChannel implements ApprovalEvents, InteractionHandler {
  private readonly client: WebClient;
  private readonly verifier: SlackVerifier;
  private readonly now: () => Date;
  /** Messages posted per approval, kept until the approval is resolved. */
  private readonly messages = new Map<string, Promise<MessageRef[]>>();

  constructor(private readonly o: SlackChannelOptions) {
    this.client = new WebClient(o.botToken, {
      slackApiUrl: o.apiUrl,
      logLevel: LogLevel.ERROR,
      retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
    });
    this.verifier = new SlackVerifier(() => o.signingSecret);
    this.now = o.now ?? (() => new Date());
  }

  // ApprovalEvents: after the fact, never throwing into the request path.

  requested(approval: Approval): void {
    const groups = [...new Set(approval.terms.requirements.map((r) => r.group))];
    const channels = [...new Set(groups.map((g) => this.o.channels[g]).filter((c) => c !== undefined))];
    if (channels.length === 0) return;
    const msg = requestMessage(approval, this.guardsOf(approval), this.now());
    const posted = Promise.all(
      channels.map(async (channel): Promise<MessageRef | undefined> => {
        try {
          const r = await this.client.chat.postMessage({
            channel,
            text: msg.text,
            blocks: msg.blocks as never,
          });
          if (r.ts === undefined) return undefined;
          const link = await this.client.chat
            .getPermalink({ channel: r.channel ?? channel, message_ts: r.ts })
            .catch(() => undefined);
          return { channel: r.channel ?? channel, ts: r.ts, permalink: link?.permalink };
        } catch (err) {
          this.o.log(
            `slack: posting approval ${approval.id} to ${channel} failed: ${(err as Error).message}`,
          );
          return undefined;
        }
      }),
    ).then((refs) => refs.filter((r) => r !== undefined));
    this.messages.set(approval.id, posted);
  }

  decided(result: DecideResult): void {
    this.refresh(result.approval.id);
  }

  lapsed(approval: Approval): void {
    this.update(approval.id, false, async (a) =>
      a.status === 'pending' ? lapsedMessage(a, this.guardsOf(a), this.now()) : undefined,
    );
  }

  expired(ids: readonly string[]): void {
    for (const id of ids) this.refresh(id);
  }

  /** Re-renders the messages of an approval from the store (after a vote or an outcome). */
  refresh(id: string): void {
    this.update(id, true, async (a) => {
      const decisions = await this.o.store.decisions(id);
      const grant = a.grantId === undefined ? undefined : await this.o.store.getGrant(a.grantId);
      return outcomeMessage(a, this.guardsOf(a), decisions, grant, this.now());
    });
  }

  /** Settles once every message update started so far has been sent (tests, shutdown). */
  async idle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  private readonly pending = new Set<Promise<void>>();

  private update(
    id: string,
    forgetWhenResolved: boolean,
    render: (a: Approval) => Promise<{ text: string; blocks: unknown[] } | undefined>,
  ): void {
    const refs = this.messages.get(id);
    if (refs === undefined) return;
    const p = (async () => {
      const list = await refs;
      const a = await this.o.store.getApproval(id);
      if (a === undefined) return;
      const msg = await render(a);
      if (msg === undefined) return;
      for (const ref of list) {
        await this.client.chat
          .update({ channel: ref.channel, ts: ref.ts, text: msg.text, blocks: msg.blocks as never })
          .catch((err: unknown) =>
            this.o.log(`slack: updating the message of ${id} failed: ${(err as Error).message}`),
          );
      }
      if (forgetWhenResolved && a.status !== 'pending') this.messages.delete(id);
    })().catch((err: unknown) => this.o.log(`slack: update of ${id} failed: ${(err as Error).message}`));
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  // Interactivity

  async interaction(raw: Buffer, headers: IncomingHttpHeaders): Promise<{ status: number; body?: unknown }> {
    const problem = this.verifier.check(
      header(headers['x-slack-request-timestamp']),
      header(headers['x-slack-signature']),
      raw,
    );
    if (problem !== undefined) {
      this.o.log(`slack: interaction refused (${problem} signature)`);
      return { status: problem === 'overloaded' ? 503 : 401, body: { error: `signature-${problem}` } };
    }
    const form = new URLSearchParams(raw.toString('utf8'));
    let payload: Json;
    try {
      payload = JSON.parse(form.get('payload') ?? '') as Json;
    } catch {
      return { status: 400, body: { error: 'bad-payload' } };
    }
    if (payload.type === 'block_actions') return this.onAction(payload);
    if (payload.type === 'view_submission') return this.onSubmit(payload);
    return { status: 200 };
  }

  private async onAction(p: Json): Promise<{ status: number; body?: unknown }> {
    const action = (p.actions as Json[] | undefined)?.[0];
    if (action?.action_id !== REVIEW_ACTION || typeof action.value !== 'string') return { status: 200 };
    const approvalId = action.value;
    const user = str((p.user as Json | undefined)?.id);
    const channel =
      str((p.channel as Json | undefined)?.id) ?? str((p.container as Json | undefined)?.channel_id);
    const ts = str((p.container as Json | undefined)?.message_ts) ?? str((p.message as Json | undefined)?.ts);
    const say = async (text: string) => {
      if (channel !== undefined && user !== undefined)
        await this.client.chat.postEphemeral({ channel, user, text }).catch((err: unknown) => {
          this.o.log(`slack: ephemeral reply failed: ${(err as Error).message}`);
        });
      return { status: 200 };
    };
    const approver = user === undefined ? undefined : await this.o.store.approverBySlackUser(user);
    if (approver === undefined || approver.revokedAt !== undefined) return say(NOT_APPROVER);
    const approval = await this.o.store.getApproval(approvalId);
    if (approval === undefined) return say(`No approval ${approvalId} in Airlock.`);
    if (approval.status !== 'pending') return say(`Approval ${approvalId} is already ${approval.status}.`);
    if (eligibleGroups(approval.terms.requirements, approver.groups).length === 0) {
      const needed = approval.terms.requirements.map((r) => r.group).join(', ');
      return say(
        `You (${approver.name}) are not in an approver group for ${approvalId} (needs: ${needed}); nothing was recorded.`,
      );
    }
    const now = this.now();
    const firstShownAt = await this.o.store.markShown(approvalId, approver.name, now);
    const decisions = await this.o.store.decisions(approvalId);
    const ids = [
      ...new Set([...approval.terms.requirements.map((r) => r.policyId), ...approval.policyReasons]),
    ];
    const policies = ids.map((id) => this.o.policy?.(id) ?? { id, text: '' }).filter((x) => x.text !== '');
    const permalink = (await this.refOf(approvalId, channel, ts))?.permalink;
    const meta: Meta = { a: approvalId, c: channel, t: ts, p: permalink };
    const view = reviewModal({
      approval,
      guards: this.guardsOf(approval),
      now,
      firstShownAt,
      policies,
      approvedBy: decisions.filter((d) => d.verdict === 'approve').map((d) => d.approver),
      privateMetadata: JSON.stringify(meta),
    });
    const trigger = str(p.trigger_id);
    if (trigger !== undefined) {
      await this.client.views.open({ trigger_id: trigger, view: view as never }).catch((err: unknown) => {
        this.o.log(`slack: opening the review of ${approvalId} failed: ${(err as Error).message}`);
      });
    }
    return { status: 200 };
  }

  private async onSubmit(p: Json): Promise<{ status: number; body?: unknown }> {
    const view = p.view as Json | undefined;
    if (view?.callback_id !== REVIEW_CALLBACK) return { status: 200 };
    let meta: Meta;
    try {
      meta = JSON.parse(String(view.private_metadata)) as Meta;
    } catch {
      return { status: 400, body: { error: 'bad-payload' } };
    }
    if (typeof meta.a !== 'string') return { status: 400, body: { error: 'bad-payload' } };
    const errors = (block: string, text: string) => ({
      status: 200,
      body: { response_action: 'errors', errors: { [block]: text } },
    });
    const userObj = p.user as Json | undefined;
    const user = str(userObj?.id);
    const team = str((p.team as Json | undefined)?.id) ?? str(userObj?.team_id) ?? '';
    const approver = user === undefined ? undefined : await this.o.store.approverBySlackUser(user);
    if (approver === undefined) return errors(INPUT.verdict, NOT_APPROVER);
    const values = ((view.state as Json | undefined)?.values ?? {}) as Record<string, Record<string, Json>>;
    const field = (block: string) => values[block]?.[block];
    const verdict = str((field(INPUT.verdict)?.selected_option as Json | undefined)?.value);
    if (verdict !== 'approve' && verdict !== 'deny') return errors(INPUT.verdict, 'Choose Approve or Deny.');
    const comment = str(field(INPUT.comment)?.value) ?? '';
    if (verdict === 'deny' && comment.trim() === '')
      return errors(INPUT.comment, 'A denial needs a comment saying why.');
    // A message posted before a restart: remember it so the outcome still updates it.
    if (!this.messages.has(meta.a) && meta.c !== undefined && meta.t !== undefined)
      this.messages.set(meta.a, Promise.resolve([{ channel: meta.c, ts: meta.t, permalink: meta.p }]));
    try {
      await this.o.decider.decide({
        approvalId: meta.a,
        approver,
        verdict,
        comment,
        channel: 'slack',
        confirm: str(field(INPUT.confirm)?.value),
        slack: { user: user as string, team, permalink: meta.p },
      });
    } catch (err) {
      if (!(err instanceof DecisionRefused)) throw err;
      const block =
        err.code === 'comment-required'
          ? INPUT.comment
          : err.code === 'confirmation-required'
            ? INPUT.confirm
            : INPUT.verdict;
      return errors(block, err.message);
    }
    return { status: 200 };
  }

  /** The message an interaction came from, or the one posted for the approval. */
  private async refOf(
    id: string,
    channel: string | undefined,
    ts: string | undefined,
  ): Promise<MessageRef | undefined> {
    const known = await (this.messages.get(id) ?? Promise.resolve([]));
    const hit = known.find((r) => r.channel === channel && r.ts === ts) ?? known[0];
    if (hit !== undefined) return hit;
    if (channel === undefined || ts === undefined) return undefined;
    const link = await this.client.chat.getPermalink({ channel, message_ts: ts }).catch(() => undefined);
    return { channel, ts, permalink: link?.permalink };
  }

  private guardsOf(a: Approval) {
    return appliedGuards(a.terms, a.scopes, this.o.guards, a);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const header = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
