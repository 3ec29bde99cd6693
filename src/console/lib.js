// Shared helpers of the console pages: DOM building, the API client, formatting.
export const state = {
  session: null,
  queue: [],
  feed: null,
  tick: null,
  filters: { agent: '', text: '', risk: '' },
};
export const main = document.getElementById('main');

// --- small helpers -------------------------------------------------------

/**
 * Control characters and bidirectional overrides in agent-supplied text (keys, SQL, names)
 * would reorder or hide what an approver reads ("Trojan Source"): shown as \u{…} instead.
 * Tab and newline stay. The same set as src/core/display-text.ts.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const DECEPTIVE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function visible(text) {
  return text.replace(DECEPTIVE, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
}

/** Builds an element; strings become text nodes, so nothing is ever parsed as HTML. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(visible(String(c))));
  }
  return el;
}

export function show(...nodes) {
  main.replaceChildren(...nodes);
}

export function toast(text) {
  const t = document.getElementById('toast');
  t.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    t.textContent = '';
  }, 6000);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
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
    state.onSignedOut?.('Your session ended; sign in again.');
    throw new ApiError(401, data.error, data.message);
  }
  if (!res.ok) throw new ApiError(res.status, data.error ?? 'error', data.message ?? res.statusText);
  return data;
}

export function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

export function left(iso) {
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (s <= 0) return 'expired';
  return ago(new Date(Date.now() - s * 1000).toISOString());
}

export function time(iso) {
  return iso ? new Date(iso).toLocaleString() : '—';
}

export function shortRes(arn) {
  return arn.split(/[/:]/).at(-1) || arn;
}

export const badge = (risk) => h('span', { class: `badge ${risk}` }, risk);
export const statusText = (s) => h('span', { class: `status-${s}` }, s);

export function setTitle(text) {
  const n = state.queue.length;
  document.title = `${n > 0 ? `(${n}) ` : ''}${text} · Airlock`;
  document.getElementById('queue-count').textContent = n > 0 ? String(n) : '';
}

export function markNav(which) {
  for (const id of ['nav-queue', 'nav-records']) {
    const a = document.getElementById(id);
    if (id === `nav-${which}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

export function item(n, title, ...body) {
  return h(
    'section',
    { class: 'item', 'aria-labelledby': `item-${n}` },
    h('h2', { id: `item-${n}` }, h('span', { class: 'num', 'aria-hidden': 'true' }, n), title),
    ...body,
  );
}

export function dl(pairs) {
  return h(
    'dl',
    {},
    pairs.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
  );
}
