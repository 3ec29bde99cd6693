/**
 * The layering of src/ (docs/ARCHITECTURE.md, "Layers"), checked in `npm run lint`:
 *   core ← policy, ledger, upstream ← approvals, access ← fronts, api, channels ← app, cli
 * A front never touches the store directly (it goes through src/access/), policy stays
 * pure (no approvals, no store), and nothing below imports the layers above it.
 */
const below = (from, ...forbidden) => ({
  name: `${from}-not-above`,
  severity: 'error',
  comment: `src/${from} must not import ${forbidden.join(', ')} (a layer above it)`,
  from: { path: `^src/${from}/` },
  to: { path: `^src/(${forbidden.join('|')})/` },
});

module.exports = {
  forbidden: [
    below('core', 'policy', 'ledger', 'upstream', 'approvals', 'access', 'fronts', 'api', 'console', 'cli', 'config', 'audit-check', 'demo'),
    below('policy', 'ledger', 'upstream', 'approvals', 'access', 'fronts', 'api', 'cli', 'config', 'audit-check', 'demo'),
    below('ledger', 'upstream', 'approvals', 'access', 'fronts', 'api', 'cli', 'config', 'audit-check', 'demo'),
    below('upstream', 'ledger', 'approvals', 'access', 'fronts', 'api', 'cli', 'config', 'audit-check', 'demo'),
    below('approvals', 'access', 'fronts', 'api', 'cli', 'audit-check', 'demo'),
    below('access', 'fronts', 'api', 'cli', 'audit-check', 'demo'),
    below('fronts', 'api', 'cli', 'audit-check', 'demo'),
    below('audit-check', 'cli', 'fronts', 'api', 'demo'),
    {
      name: 'fronts-not-store',
      severity: 'error',
      comment: 'a front reaches the store only through src/access/ (the one request path and its Recorder)',
      from: { path: '^src/fronts/' },
      to: { path: '^src/ledger/(store|sqlite/|postgres/)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^src/console/' },
  },
};
