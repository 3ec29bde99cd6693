/**
 * Rewrites the two generated copies of the config schema: schema/airlock.schema.json
 * (what editors load) and the reference table in docs/CONFIG.md. test/unit/config-schema.test.ts
 * fails when either is stale; run `npm run config:docs` after changing src/config.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIG_DOC, SCHEMA_FILE, withReference } from '../src/config/reference.js';
import { configJsonSchema } from '../src/config/schema.js';

writeFileSync(SCHEMA_FILE, `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
writeFileSync(CONFIG_DOC, withReference(readFileSync(CONFIG_DOC, 'utf8')));
process.stdout.write(`wrote ${SCHEMA_FILE.pathname} and ${CONFIG_DOC.pathname}\n`);
