// Record search and one record: approval → grant → every action, out-of-grant attempts highlighted.
import {
  api,
  dl,
  h,
  item,
  markNav,
  setTitle,
  shortRes,
  show,
  state,
  statusText,
  time,
  toast,
} from './lib.js';

export async function renderRecords(params) {
  markNav('records');
  setTitle('Records');
  const fields = [
    ['agent', 'Agent', 'text'],
    ['resource', 'Resource', 'text'],
    ['approval', 'Approval id', 'text'],
    ['grant', 'Grant id', 'text'],
    ['from', 'From', 'datetime-local'],
    ['to', 'To', 'datetime-local'],
  ];
  const form = h(
    'form',
    { class: 'search', role: 'search' },
    fields.map(([k, label, type]) =>
      h(
        'div',
        {},
        h('label', { for: `r-${k}` }, label),
        h('input', { id: `r-${k}`, name: k, type, value: params.get(k) ?? '' }),
      ),
    ),
    h('button', { type: 'submit' }, 'Search'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k] of fields) {
      const v = form.querySelector(`#r-${k}`).value.trim();
      if (v) q.set(k, k === 'from' || k === 'to' ? new Date(v).toISOString() : v);
    }
    location.hash = `#/records?${q}`;
  });
  const results = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Searching…'));
  show(h('h1', {}, 'Records'), form, results);
  try {
    const { records } = await api('GET', `/v1/records?${params}`);
    results.replaceChildren(
      records.length === 0
        ? h('p', { class: 'muted' }, 'No record matches.')
        : h(
            'table',
            {},
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Approval', 'Agent', 'Action', 'Resources', 'Status', 'Grant', 'Requested'].map((c) =>
                  h('th', { scope: 'col' }, c),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              records.map((x) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('a', { href: `#/record/${x.id}` }, x.id)),
                  h('td', {}, x.agent),
                  h('td', {}, h('code', {}, x.operation)),
                  h('td', { class: 'res' }, x.resources.map(shortRes).join(', ')),
                  h('td', {}, statusText(x.status)),
                  h('td', {}, x.grant ? `${x.grant.id} (${grantWord(x.grant)})` : '—'),
                  h('td', {}, time(x.createdAt)),
                ),
              ),
            ),
          ),
    );
  } catch (e) {
    results.replaceChildren(h('p', { class: 'error' }, e.message));
  }
}

/**
 * The record on screen, kept current from the feed's `records` events: refetched when an
 * entry names its approval or grant, or (while the grant is live) its agent, whose attempts
 * outside the grant are part of the record; and once more when the grant expires.
 */
const live = {
  id: null,
  grantId: null,
  agent: null,
  watchAgent: false,
  busy: false,
  again: false,
  expiry: 0,
};

function shownRecordId() {
  const m = /^#\/record\/([^?]+)/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

state.onRecords = (changed) => {
  if (live.id === null || shownRecordId() !== live.id) return;
  if (
    changed.all ||
    changed.approvals.includes(live.id) ||
    (live.grantId !== null && changed.grants.includes(live.grantId)) ||
    (live.watchAgent && changed.agents.includes(live.agent))
  )
    refreshRecord();
};

async function refreshRecord() {
  if (live.busy) {
    live.again = true;
    return;
  }
  live.busy = true;
  try {
    await renderRecord(live.id, { live: true });
  } finally {
    live.busy = false;
  }
  if (live.again) {
    live.again = false;
    refreshRecord();
  }
}

export async function renderRecord(id, opts = {}) {
  if (!opts.live) markNav('records');
  let r;
  try {
    r = await api('GET', `/v1/records/${encodeURIComponent(id)}`);
  } catch (e) {
    // A failed live refresh keeps what is on screen; the next change tries again.
    if (!opts.live) show(h('h1', {}, 'Record'), h('p', { class: 'error' }, e.message));
    return;
  }
  if (shownRecordId() !== id) return; // the approver has moved on meanwhile
  const a = r.audit;
  setTitle(`Record ${id}`);
  const g = r.grant;
  live.id = id;
  live.grantId = g?.id ?? null;
  live.agent = a.requester.agent;
  live.watchAgent = g?.active === true;
  clearTimeout(live.expiry);
  const untilEnd = g?.active ? Date.parse(g.expiresAt) - Date.now() + 500 : -1;
  if (untilEnd > 0 && untilEnd < 2 ** 31 - 1) live.expiry = setTimeout(refreshRecord, untilEnd);
  const revoke = g?.active
    ? h(
        'button',
        {
          type: 'button',
          id: 'revoke',
          class: 'deny',
          onclick: async () => {
            if (!window.confirm(`Revoke grant ${g.id}? The agent loses access at once.`)) return;
            try {
              await api('POST', `/v1/grants/${encodeURIComponent(g.id)}/revoke`);
              toast(`Revoked ${g.id}`);
              renderRecord(id);
            } catch (e) {
              toast(e.message);
            }
          },
        },
        'Revoke grant',
      )
    : null;
  const actions = [...a.actions.map((x) => ({ ...x, outOfGrant: false })), ...r.outOfGrant].sort(
    (x, y) => Date.parse(x.at) - Date.parse(y.at),
  );
  show(
    h('h1', {}, `Record ${id} `, statusText(a.status)),
    h(
      'p',
      { id: 'record-live', class: 'muted', role: 'status' },
      opts.live
        ? `Updated ${time(new Date().toISOString())}: this page follows the record as it changes.`
        : 'This page follows the record: new actions, uses and revocation appear as they happen.',
    ),
    h(
      'div',
      { class: 'grid' },
      h(
        'div',
        {},
        item(
          1,
          'Requester',
          dl([
            ['Agent', a.requester.agent],
            ['Access key', a.requester.accessKeyId ?? '—'],
          ]),
        ),
        item(
          2,
          'Request',
          dl([
            ['Action', `${a.request.service}:${a.request.operation}`],
            ['Requested', time(a.request.requestedAt)],
            ['Policy', a.request.policyReasons.join(', ')],
          ]),
          h(
            'ul',
            {},
            a.request.scopes.map((s) =>
              h('li', { class: 'res' }, h('code', {}, `${s.action} ${s.resource}`)),
            ),
          ),
        ),
        item(3, 'Reason', h('p', {}, a.reason ?? '(none)')),
        item(
          4,
          'Decisions',
          a.decisions.length
            ? h(
                'table',
                {},
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['Approver', 'Verdict', 'Channel', 'Reviewed', 'Guards', 'Comment', 'At'].map((c) =>
                      h('th', { scope: 'col' }, c),
                    ),
                  ),
                ),
                h(
                  'tbody',
                  {},
                  a.decisions.map((x) =>
                    h(
                      'tr',
                      {},
                      h('td', {}, x.approver),
                      h('td', {}, x.verdict),
                      h('td', {}, x.channel),
                      h(
                        'td',
                        {},
                        x.viewedDetail === false
                          ? 'never opened'
                          : x.reviewSeconds == null
                            ? '—'
                            : `${Math.round(x.reviewSeconds)}s`,
                      ),
                      h(
                        'td',
                        {},
                        x.guards
                          ? `${x.guards.risk}: ≥${x.guards.minReviewSeconds}s${x.guards.requireComment ? ', comment' : ''}${x.guards.confirmText ? ', typed' : ''}`
                          : '—',
                      ),
                      h('td', {}, x.comment),
                      h('td', {}, time(x.decidedAt)),
                    ),
                  ),
                ),
              )
            : h('p', { class: 'muted' }, 'No decisions.'),
        ),
      ),
      h(
        'div',
        {},
        item(
          5,
          'Grant',
          g
            ? dl([
                ['Id', g.id],
                ['Covers', g.description ?? `${g.breadth ?? 'scope'} grant`],
                ['Breadth', g.breadth ?? 'scope (recorded before breadth existed)'],
                ['Issued', time(g.issuedAt)],
                ['Expires', time(g.expiresAt)],
                ['Uses', `${g.uses}${g.maxUses ? ` of ${g.maxUses}` : ''}`],
                [
                  'State',
                  g.revokedAt
                    ? `revoked by ${g.revokedBy} at ${time(g.revokedAt)}`
                    : g.active
                      ? 'active'
                      : 'ended',
                ],
              ])
            : h('p', { class: 'muted' }, 'No grant was issued.'),
          revoke,
        ),
      ),
    ),
    item(
      6,
      'Actions',
      actions.length === 0
        ? h('p', { class: 'muted' }, 'No action has run under this approval.')
        : h(
            'table',
            { id: 'actions' },
            h(
              'caption',
              { class: 'muted' },
              'Rows marked “outside grant” are the agent’s attempts, during the grant, that it did not cover.',
            ),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Times', 'Operation', 'Resources', 'Outcome', 'Upstream', 'Grant'].map((c) =>
                  h('th', { scope: 'col' }, c),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              actions.map((x) =>
                h(
                  'tr',
                  { class: x.outOfGrant ? 'out-of-grant' : '' },
                  h('td', { class: 'times' }, actionTimes(x)),
                  h('td', {}, h('code', {}, `${x.service}:${x.operation}`)),
                  h('td', { class: 'res' }, x.scopes.map((s) => shortRes(s.resource)).join(', ')),
                  h('td', {}, x.outOfGrant ? `${x.outcome} — outside grant` : x.outcome),
                  h('td', {}, x.upstreamStatus ?? '—'),
                  h('td', {}, x.grantId ?? '—'),
                ),
              ),
            ),
          ),
    ),
  );
}

/** An action's own times, in order (ledger/audit.ts ACTION_TIMES); a missing one is left out. */
function actionTimes(x) {
  const rows = [
    ['received', x.receivedAt ?? x.at],
    ['decided', x.decidedAt],
    ['forwarded', x.forwardedAt],
    ['completed', x.completedAt],
  ].filter(([, t]) => t);
  return rows.map(([k, t]) => h('div', {}, `${k} ${time(t)}`));
}

/** One word for a grant in the records list: a revoked grant is marked as plainly as a live one. */
function grantWord(g) {
  if (g.revokedAt) return 'revoked';
  if (g.active) return 'active';
  return Date.parse(g.expiresAt) <= Date.now() ? 'expired' : 'used up';
}
