/**
 * The console's files (src/console/), read once and served under a strict
 * Content-Security-Policy; `/` and `/console` redirect to `/console/`. They are the
 * console, not the API: declared like every route, left out of the OpenAPI document.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inMemory } from './http-util.js';
import type { Declare } from './route.js';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'console');
const STATIC: Readonly<Record<string, string>> = {
  '/console/': 'index.html',
  '/console/style.css': 'style.css',
  '/console/app.js': 'app.js',
  '/console/lib.js': 'lib.js',
  '/console/login.js': 'login.js',
  '/console/queue.js': 'queue.js',
  '/console/detail.js': 'detail.js',
  '/console/records.js': 'records.js',
};
const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
/** No inline script or style, nothing from another origin, never framed (CSP Level 3). */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
export const PAGE_HEADERS = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function consoleStatic(route: Declare): void {
  const files = new Map<string, Buffer>();
  for (const path of ['/', '/console']) {
    route(
      {
        method: 'get',
        path,
        summary: 'Redirects to the console',
        auth: 'none',
        hide: true,
        responses: { 302: { description: 'to /console/' } },
      },
      () => new Response(null, { status: 302, headers: { location: '/console/' } }),
    );
  }
  for (const [path, file] of Object.entries(STATIC)) {
    const ext = file.split('.').at(-1) ?? '';
    route(
      {
        method: 'get',
        path,
        summary: `Console file ${file}`,
        auth: 'none',
        hide: true,
        responses: { 200: { description: file, media: TYPES[ext] ?? 'application/octet-stream' } },
      },
      () => {
        let body = files.get(file);
        if (body === undefined) {
          body = readFileSync(join(STATIC_DIR, file));
          files.set(file, body);
        }
        return inMemory(body, {
          status: 200,
          headers: new Headers({
            'content-type': TYPES[ext] ?? 'application/octet-stream',
            'content-length': String(body.length),
            'cache-control': 'no-cache',
            ...PAGE_HEADERS,
          }),
        });
      },
    );
  }
}
