/** Config entry → the runtime view a Postgres front needs (password source, TLS, classifier settings). */
import type { AirlockConfig } from '../../config/config.js';
import type { DatabaseConfig } from '../../config/databases.js';
import { DEFAULT_LIMITS } from '../../config/load-limits.js';
import type { CredentialSource } from '../../upstream/aws-credentials.js';
import { passwordProvider } from '../../upstream/pg-password.js';
import { loadOrCreateTls } from '../tls-cert.js';
import { CatalogLoader } from './catalog-loader.js';
import { NEVER_READ_FUNCTIONS } from './never-read-functions.js';
import type { PgDatabase } from './session.js';

export function postgresDatabase(
  config: AirlockConfig,
  db: DatabaseConfig,
  credentials: CredentialSource | undefined,
): PgDatabase {
  return {
    name: db.name,
    upstream: {
      ...db.upstream,
      tls: db.tls,
      password: passwordProvider(db.auth, db.upstream, credentials),
      // Below the clients' own connect timeouts, so the agent hears Airlock's 57P03.
      connectTimeoutMs: (config.limits ?? DEFAULT_LIMITS).upstreamConnectTimeoutMs,
    },
    defaultSearchPath: db.searchPath,
    catalog: new CatalogLoader({
      neverRead: [...NEVER_READ_FUNCTIONS, ...db.sideEffectFunctions],
      readFunctions: db.readFunctions,
    }),
    params: db.recordParams,
    tls: db.clientTlsEnabled ? loadOrCreateTls(config.dataDir, db.clientTls) : undefined,
    tlsRequired: db.clientTlsRequired,
  };
}
