// Sign-in page (local password or SSO) and sign-out.
import { api, h, show, state } from './lib.js';
import { stopFeed } from './queue.js';

export async function renderLogin(message) {
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
      await state.onSignedIn?.();
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

export async function signOut() {
  try {
    await api('DELETE', '/v1/session');
  } finally {
    state.session = null;
    renderLogin('Signed out.');
  }
}
