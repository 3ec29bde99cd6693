// Airlock console: plain browser JavaScript modules, no framework, no external assets.
// Every action is a call to the documented HTTP API (/v1/openapi.json); the
// server enforces every rule (guards, quorum, CSRF) — these pages only show them.
import { renderDetail } from './detail.js';
import { main, state } from './lib.js';
import { renderLogin, signOut } from './login.js';
import { renderQueue, startFeed } from './queue.js';
import { renderRecord, renderRecords } from './records.js';

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

state.onSignedOut = renderLogin;
state.onSignedIn = boot;
window.addEventListener('hashchange', () => {
  route();
});
boot();
