// Request detail: the six items, the policies behind the hold, and the decision panel.
import {
  api,
  badge,
  dl,
  h,
  item,
  markNav,
  setTitle,
  shortRes,
  show,
  statusText,
  time,
  toast,
} from './lib.js';

export async function renderDetail(id) {
  markNav('queue');
  let d;
  try {
    d = await api('GET', `/v1/approvals/${encodeURIComponent(id)}`);
  } catch (e) {
    show(h('h1', {}, 'Approval'), h('p', { class: 'error' }, e.message));
    return;
  }
  const a = d.approval;
  const r = d.review;
  setTitle(`${a.operation} by ${a.agent}`);
  const scopes = h(
    'table',
    {},
    h(
      'thead',
      {},
      h('tr', {}, h('th', { scope: 'col' }, 'IAM action'), h('th', { scope: 'col' }, 'Resource')),
    ),
    h(
      'tbody',
      {},
      a.scopes.map((s) =>
        h(
          'tr',
          {},
          h('td', {}, h('code', {}, s.action)),
          h('td', { class: 'res' }, h('code', {}, s.resource)),
        ),
      ),
    ),
  );
  const quorum = d.quorum.map((q) =>
    h(
      'li',
      {},
      `${q.approvedBy.length} of ${q.quorum} from group ${q.group}`,
      q.approvedBy.length ? ` (${q.approvedBy.join(', ')})` : '',
      ` — policy ${q.policyId}`,
    ),
  );
  const left = [
    h('h1', {}, `${a.service}:${a.operation} `, statusText(a.status)),
    h(
      'p',
      { class: 'muted' },
      `Approval ${a.id} · requested ${time(a.createdAt)} · expires ${time(a.expiresAt)}`,
    ),
    item(
      1,
      'Requester',
      dl([
        ['Agent', a.agent],
        ['Request id', a.requestId],
      ]),
    ),
    item(
      2,
      'Request',
      scopes,
      h('h3', {}, 'Payload summary'),
      h('pre', { tabindex: '0', 'aria-label': 'Payload summary' }, JSON.stringify(a.summary, null, 2)),
    ),
    item(
      3,
      'Reason',
      a.reason ? h('p', {}, a.reason) : h('p', { class: 'muted' }, '(the agent gave no reason)'),
    ),
    item(
      4,
      'Why it was held',
      h('ul', {}, quorum),
      d.policies.map((p) =>
        h(
          'div',
          {},
          h('p', {}, h('strong', {}, p.id), ` (${p.effect}${p.file ? `, ${p.file}` : ''})`),
          p.text ? h('pre', { tabindex: '0' }, p.text) : null,
        ),
      ),
    ),
    item(
      5,
      'The grant an approval becomes',
      dl([
        ['Scopes', `${a.scopes.length} (exactly the ones above)`],
        ['Lasts at most', `${a.terms.maxGrantSeconds}s`],
        ['Agent', a.agent],
        // What approving covers, per breadth, is the approve panel's choice (approvals/breadth.ts).
      ]),
      d.grant ? h('p', {}, `Issued: ${d.grant.id}`) : null,
    ),
    item(
      6,
      'Decisions and the agent’s recent history',
      d.decisions.length
        ? h(
            'ul',
            {},
            d.decisions.map((x) =>
              h('li', {}, `${x.approver} ${x.verdict}d via ${x.channel}: “${x.comment}”`),
            ),
          )
        : h('p', { class: 'muted' }, 'No decisions yet.'),
      h('h3', {}, `Last approvals of ${a.agent}`),
      d.history.length
        ? h(
            'table',
            {},
            h(
              'tbody',
              {},
              d.history.map((x) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('a', { href: `#/record/${x.id}` }, x.operation)),
                  h('td', { class: 'res' }, x.resources.map(shortRes).join(', ')),
                  h('td', {}, statusText(x.status)),
                  h('td', {}, time(x.createdAt)),
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'No earlier requests.'),
    ),
  ];
  show(
    h(
      'div',
      { class: 'grid' },
      h('div', {}, left),
      a.status === 'pending'
        ? decisionPanel(a, r, d.grantChoices)
        : h('div', {}, h('a', { href: `#/record/${a.id}` }, 'Open the record')),
    ),
  );
}

/**
 * What approving lets through, one radio per breadth the policy allows, each with the
 * sentence the server will record (approvals/breadth.ts); the default is checked.
 */
function breadthPicker(gc) {
  if (!gc || !Array.isArray(gc.choices) || gc.choices.length === 0)
    return { el: null, value: () => undefined };
  const radios = gc.choices.map((c) =>
    h('input', {
      type: 'radio',
      name: 'decide-breadth',
      id: `breadth-${c.breadth}`,
      value: c.breadth,
      checked: c.isDefault,
    }),
  );
  const el = h(
    'fieldset',
    { class: 'row breadth', id: 'decide-breadth' },
    h('legend', {}, 'If you approve'),
    gc.choices.map((c, i) =>
      h(
        'div',
        {},
        radios[i],
        ' ',
        h('label', { for: `breadth-${c.breadth}`, class: 'breadth-sentence' }, c.sentence),
      ),
    ),
  );
  return { el, value: () => radios.find((x) => x.checked)?.value };
}

function decisionPanel(a, r, gc) {
  const breadth = breadthPicker(gc);
  const clock = h('p', { class: 'clock', id: 'review-clock', 'aria-live': 'polite' });
  const updateClock = () => {
    const s = Math.ceil((Date.parse(r.earliestApproveAt) - Date.now()) / 1000);
    clock.className = `clock ${s > 0 ? 'waiting' : 'ready'}`;
    clock.textContent = s > 0 ? `Minimum review: you can approve in ${s}s` : 'Minimum review time has passed';
  };
  updateClock();
  const timer = setInterval(() => {
    if (!clock.isConnected) clearInterval(timer);
    else updateClock();
  }, 500);
  const error = h('p', { class: 'error', role: 'alert', id: 'decide-error' });
  const comment = h('textarea', { id: 'decide-comment', 'aria-describedby': 'comment-help' });
  const confirm = r.confirmText
    ? h('input', { id: 'decide-confirm', autocomplete: 'off', spellcheck: 'false' })
    : null;
  const send = async (verdict) => {
    error.textContent = '';
    try {
      const body = { comment: comment.value };
      if (confirm) body.confirm = confirm.value;
      if (verdict === 'approve' && breadth.value()) body.breadth = breadth.value();
      const res = await api('POST', `/v1/approvals/${encodeURIComponent(a.id)}/${verdict}`, body);
      toast(
        `${a.id}: ${res.state}${res.grant ? ` — ${res.grant.description ?? `grant ${res.grant.id}`}` : ''}`,
      );
      location.hash = res.state === 'pending' ? `#/approval/${a.id}` : `#/record/${a.id}`;
      if (res.state === 'pending') renderDetail(a.id);
    } catch (e) {
      error.textContent = `${e.message} (${e.code})`;
    }
  };
  return h(
    'aside',
    { class: 'decide', 'aria-labelledby': 'decide-title' },
    h('h2', { id: 'decide-title' }, 'Decide ', badge(r.risk)),
    clock,
    h(
      'div',
      { class: 'row' },
      h(
        'label',
        { for: 'decide-comment' },
        `Comment${r.requireComment ? ' (required)' : ' (required to deny)'}`,
      ),
      comment,
      h('p', { id: 'comment-help', class: 'muted' }, 'What did you check? This goes into the record.'),
    ),
    confirm
      ? h(
          'div',
          { class: 'row' },
          h('label', { for: 'decide-confirm' }, `Type “${r.confirmText}” to confirm`),
          confirm,
        )
      : null,
    breadth.el,
    error,
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', id: 'approve', onclick: () => send('approve') }, 'Approve'),
      h('button', { type: 'button', id: 'deny', class: 'deny', onclick: () => send('deny') }, 'Deny'),
    ),
    h(
      'p',
      { class: 'muted' },
      `Needs: detail open ≥ ${r.minReviewSeconds}s${r.readingSeconds === undefined ? '' : ' (the time to read it)'}${r.requireComment ? ', a comment' : ''}${r.confirmText ? ', the resource name typed' : ''}. The server refuses otherwise.`,
    ),
  );
}
