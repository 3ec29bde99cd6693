/** The Postgres front's actions for policy: one per statement class (`postgres:select`, …). */
import type { FrontCatalog } from '../../access/catalog.js';
import { postgresActionGroups, postgresActions } from './actions.js';

export const postgresCatalog: FrontCatalog = {
  front: 'postgres',
  actions: postgresActions,
  groupsOf: postgresActionGroups,
  owns: (action) => action.startsWith('postgres:'),
};
