// The live queue of pending approvals, and record changes for the record page (Server-Sent Events from /v1/events).
import { ago, badge, h, left, markNav, setTitle, shortRes, show, state } from './lib.js';

export function startFeed() {
  if (state.feed) return;
  state.feed = new EventSource('/v1/events');
  state.feed.addEventListener('queue', (ev) => {
    state.queue = JSON.parse(ev.data).approvals;
    if (location.hash === '' || location.hash.startsWith('#/queue')) renderQueueTable();
    else setTitle(document.title.replace(/^\(\d+\) /, '').replace(/ · Airlock$/, ''));
  });
  // Which records changed (api/approval-feed.ts); the record page refetches its own when named.
  state.feed.addEventListener('records', (ev) => {
    state.onRecords?.(JSON.parse(ev.data));
  });
  let opened = false;
  state.feed.addEventListener('open', () => {
    // After a reconnect, whatever changed while the stream was down was never announced.
    if (opened) state.onRecords?.({ approvals: [], grants: [], agents: [], all: true });
    opened = true;
  });
  state.feed.addEventListener('error', () => {
    // EventSource reconnects by itself; a 401 shows up on the next API call.
  });
  state.tick = setInterval(() => {
    for (const el of document.querySelectorAll('[data-age]')) el.textContent = ago(el.dataset.age);
    for (const el of document.querySelectorAll('[data-left]')) el.textContent = left(el.dataset.left);
  }, 1000);
}

export function stopFeed() {
  state.feed?.close();
  state.feed = null;
  clearInterval(state.tick);
}

export function renderQueue() {
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

export function renderQueueTable() {
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
