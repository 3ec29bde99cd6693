// Airlock console: plain browser JavaScript, no framework, no external assets.
// Every action is a call to the documented HTTP API (/v1/openapi.json); the
// server enforces every rule (guards, quorum, CSRF) — this page only shows them.

const state = {
  session: null,
  queue: [],
  feed: null,
  tick: null,
  filters: { agent: '', text: '', risk: '' },
};
const main = document.getElementById('main');

// --- small helpers -------------------------------------------------------

/** Builds an element; strings become text nodes, so nothing is ever parsed as HTML. */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function show(...nodes) {
  main.replaceChildren(...nodes);
}

function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    t.textContent = '';
  }, 6000);
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const headers = {};
  if (state.session) headers['x-airlock-csrf'] = state.session.csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && path !== '/v1/session') {
    state.session = null;
    renderLogin('Your session ended; sign in again.');
    throw new ApiError(401, data.error, data.message);
  }
  if (!res.ok) throw new ApiError(res.status, data.error ?? 'error', data.message ?? res.statusText);
  return data;
}

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function left(iso) {
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (s <= 0) return 'expired';
  return ago(new Date(Date.now() - s * 1000).toISOString());
}

function time(iso) {
  return iso ? new Date(iso).toLocaleString() : '—';
}

function shortRes(arn) {
  return arn.split(/[/:]/).at(-1) || arn;
}

const badge = (risk) => h('span', { class: `badge ${risk}` }, risk);
const statusText = (s) => h('span', { class: `status-${s}` }, s);

function setTitle(text) {
  const n = state.queue.length;
  document.title = `${n > 0 ? `(${n}) ` : ''}${text} · Airlock`;
  document.getElementById('queue-count').textContent = n > 0 ? String(n) : '';
}

function markNav(which) {
  for (const id of ['nav-queue', 'nav-records']) {
    const a = document.getElementById(id);
    if (id === `nav-${which}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// --- sign-in -------------------------------------------------------------

async function renderLogin(message) {
  stopFeed();
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  document.title = 'Sign in · Airlock';
  const methods = await fetch('/v1/auth/methods')
    .then((r) => r.json())
    .catch(() => ({ password: true, oidc: false }));
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' }, message ?? '');
  const form = h(
    'form',
    { class: 'login-box', 'aria-describedby': 'login-error' },
    h(
      'div',
      { class: 'row' },
      h('label', { for: 'login-name' }, 'Approver name'),
      h('input', { id: 'login-name', name: 'name', autocomplete: 'username', required: true }),
    ),
    h(
      'div',
      { class: 'row' },
      h('label', { for: 'login-password' }, 'Password'),
      h('input', {
        id: 'login-password',
        name: 'password',
        type: 'password',
        autocomplete: 'current-password',
        required: true,
      }),
    ),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = form.querySelector('#login-name').value;
    const password = form.querySelector('#login-password').value;
    try {
      state.session = await api('POST', '/v1/session', { name, password });
      await boot();
    } catch (e) {
      error.textContent = e.message;
    }
  });
  show(
    h(
      'div',
      { class: 'narrow' },
      h('h1', {}, 'Sign in to Airlock'),
      error,
      methods.oidc
        ? h('p', {}, h('a', { class: 'button', href: '/v1/auth/oidc/login', id: 'sso' }, 'Sign in with SSO'))
        : null,
      methods.oidc && methods.password ? h('p', { class: 'or' }, 'or with a local account') : null,
      methods.password ? form : null,
    ),
  );
  (document.getElementById('sso') ?? document.getElementById('login-name'))?.focus();
}

async function signOut() {
  try {
    await api('DELETE', '/v1/session');
  } finally {
    state.session = null;
    renderLogin('Signed out.');
  }
}

// --- live queue ----------------------------------------------------------

function startFeed() {
  if (state.feed) return;
  state.feed = new EventSource('/v1/events');
  state.feed.addEventListener('queue', (ev) => {
    state.queue = JSON.parse(ev.data).approvals;
    if (location.hash === '' || location.hash.startsWith('#/queue')) renderQueueTable();
    else setTitle(document.title.replace(/^\(\d+\) /, '').replace(/ · Airlock$/, ''));
  });
  state.feed.addEventListener('error', () => {
    // EventSource reconnects by itself; a 401 shows up on the next API call.
  });
  state.tick = setInterval(() => {
    for (const el of document.querySelectorAll('[data-age]')) el.textContent = ago(el.dataset.age);
    for (const el of document.querySelectorAll('[data-left]')) el.textContent = left(el.dataset.left);
  }, 1000);
}

function stopFeed() {
  state.feed?.close();
  state.feed = null;
  clearInterval(state.tick);
}

function renderQueue() {
  markNav('queue');
  const f = state.filters;
  const input = (id, label, key, attrs = {}) =>
    h(
      'div',
      {},
      h('label', { for: id }, label),
      h('input', {
        id,
        value: f[key],
        ...attrs,
        oninput: (e) => {
          f[key] = e.target.value;
          renderQueueTable();
        },
      }),
    );
  const risk = h(
    'select',
    {
      id: 'f-risk',
      onchange: (e) => {
        f.risk = e.target.value;
        renderQueueTable();
      },
    },
    ['', 'low', 'medium', 'high', 'critical'].map((r) =>
      h('option', { value: r, selected: f.risk === r }, r === '' ? 'any' : r),
    ),
  );
  show(
    h('h1', {}, 'Pending approvals'),
    h(
      'div',
      { class: 'filters', role: 'search' },
      input('f-agent', 'Agent', 'agent'),
      input('f-text', 'Action or resource', 'text'),
      h('div', {}, h('label', { for: 'f-risk' }, 'Risk'), risk),
    ),
    h('div', { id: 'queue-table', 'aria-live': 'polite' }),
  );
  renderQueueTable();
}

function renderQueueTable() {
  setTitle('Queue');
  const box = document.getElementById('queue-table');
  if (!box) return;
  const f = state.filters;
  const rows = state.queue.filter((a) => {
    const text =
      `${a.service}:${a.operation} ${a.scopes.map((s) => `${s.action} ${s.resource}`).join(' ')}`.toLowerCase();
    return (
      (!f.agent || a.agent.includes(f.agent)) &&
      (!f.text || text.includes(f.text.toLowerCase())) &&
      (!f.risk || a.guards.risk === f.risk)
    );
  });
  if (rows.length === 0) {
    box.replaceChildren(
      h(
        'p',
        { class: 'muted' },
        state.queue.length === 0
          ? 'Nothing is waiting for a decision.'
          : 'No pending approval matches the filters.',
      ),
    );
    return;
  }
  box.replaceChildren(
    h(
      'table',
      {},
      h('caption', { class: 'muted' }, `${rows.length} of ${state.queue.length} pending`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Agent', 'Action', 'Resources', 'Risk', 'Reason', 'Age', 'Time left', ''].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((a) =>
          h(
            'tr',
            { 'data-id': a.id },
            h('td', {}, a.agent),
            h('td', {}, h('code', {}, `${a.service}:${a.operation}`)),
            h(
              'td',
              { class: 'res' },
              [...new Set(a.scopes.map((s) => s.resource))].map((r) => h('div', { title: r }, shortRes(r))),
            ),
            h('td', {}, badge(a.guards.risk)),
            h('td', {}, a.reason ?? h('span', { class: 'muted' }, '(none)')),
            h('td', { 'data-age': a.createdAt }, ago(a.createdAt)),
            h('td', { 'data-left': a.expiresAt }, left(a.expiresAt)),
            h(
              'td',
              {},
              h(
                'a',
                { href: `#/approval/${a.id}`, 'aria-label': `Review ${a.operation} by ${a.agent}` },
                'Review',
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

// --- request detail ------------------------------------------------------

function item(n, title, ...body) {
  return h(
    'section',
    { class: 'item', 'aria-labelledby': `item-${n}` },
    h('h2', { id: `item-${n}` }, h('span', { class: 'num', 'aria-hidden': 'true' }, n), title),
    ...body,
  );
}

function dl(pairs) {
  return h(
    'dl',
    {},
    pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}

async function renderDetail(id) {
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
        ? decisionPanel(a, r)
        : h('div', {}, h('a', { href: `#/record/${a.id}` }, 'Open the record')),
    ),
  );
}

function decisionPanel(a, r) {
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
      const res = await api('POST', `/v1/approvals/${encodeURIComponent(a.id)}/${verdict}`, body);
      toast(`${a.id}: ${res.state}${res.grant ? ` — grant ${res.grant.id}` : ''}`);
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
      `Needs: detail open ≥ ${r.minReviewSeconds}s${r.requireComment ? ', a comment' : ''}${r.confirmText ? ', the resource name typed' : ''}. The server refuses otherwise.`,
    ),
  );
}

// --- records -------------------------------------------------------------

async function renderRecords(params) {
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
                  h('td', {}, x.grant ? `${x.grant.id}${x.grant.active ? ' (active)' : ''}` : '—'),
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

async function renderRecord(id) {
  markNav('records');
  let r;
  try {
    r = await api('GET', `/v1/records/${encodeURIComponent(id)}`);
  } catch (e) {
    show(h('h1', {}, 'Record'), h('p', { class: 'error' }, e.message));
    return;
  }
  const a = r.audit;
  setTitle(`Record ${id}`);
  const g = r.grant;
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
                ['At', 'Operation', 'Resources', 'Outcome', 'Upstream', 'Grant'].map((c) =>
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
                  h('td', {}, time(x.at)),
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

// --- routing -------------------------------------------------------------

async function route() {
  if (!state.session) return;
  const [path, query] = location.hash.slice(1).split('?');
  const parts = (path || '/queue').split('/').filter(Boolean);
  if (parts[0] === 'approval' && parts[1]) await renderDetail(decodeURIComponent(parts[1]));
  else if (parts[0] === 'record' && parts[1]) await renderRecord(decodeURIComponent(parts[1]));
  else if (parts[0] === 'records') await renderRecords(new URLSearchParams(query ?? ''));
  else renderQueue();
  main.focus({ preventScroll: true });
}

async function boot() {
  if (!state.session) {
    const res = await fetch('/v1/session', { credentials: 'same-origin' });
    if (!res.ok) return renderLogin();
    state.session = await res.json();
  }
  document.getElementById('nav').hidden = false;
  const out = document.getElementById('sign-out');
  out.hidden = false;
  out.onclick = signOut;
  document.getElementById('who').textContent =
    `${state.session.approver} (${state.session.groups.join(', ')})`;
  startFeed();
  await route();
}

window.addEventListener('hashchange', () => {
  route();
});
boot();
