/**
 * SET / RESET: which settings an agent may change freely, which need a `config` grant,
 * and the session effects (search_path, client_encoding, application_name) they report.
 */
import { settingResource } from './actions.js';
import { list, type Node, str } from './parse-tree.js';
import type { Collector } from './scope-collector.js';
import { isEverydaySetting } from './session-settings.js';

export function variableSet(c: Collector, body: Node): void {
  const name = str(body.name)?.toLowerCase();
  const kind = str(body.kind);
  const local = body.is_local === true;
  if (kind === 'VAR_RESET_ALL') {
    c.effects.push({ kind: 'search_path', value: 'default', local });
    c.path = [...new Set([...c.path, ...c.ctx.defaultSearchPath])];
    c.effects.push({ kind: 'application_name', value: 'default' });
    c.addDb('session');
    return;
  }
  if (name === 'role' || name === 'session_authorization') {
    c.addDb('set_role');
    return;
  }
  // RESET (and SET ... TO DEFAULT) only go back to the configured value.
  const sets = kind !== 'VAR_RESET' && kind !== 'VAR_SET_DEFAULT';
  if (name !== undefined && sets && !isEverydaySetting(name)) {
    c.add('config', settingResource(c.ctx.db, name));
    return;
  }
  if (name === 'search_path') {
    const value =
      kind === 'VAR_SET_VALUE'
        ? list(body.args).map(
            (a) =>
              str(
                ((a as Node).A_Const as Node | undefined)?.sval &&
                  (((a as Node).A_Const as Node).sval as Node).sval,
              ) ?? '',
          )
        : 'default';
    c.effects.push({ kind: 'search_path', value, local });
    // Later statements of this query string may resolve against either path.
    const next =
      value === 'default' ? c.ctx.defaultSearchPath : value.map((v) => (v === '$user' ? c.ctx.user : v));
    c.path = [...new Set([...c.path, ...next])];
  }
  if (name === 'client_encoding' && kind === 'VAR_SET_VALUE') {
    const a = list(body.args)[0] as Node | undefined;
    const v = str(((a?.A_Const as Node | undefined)?.sval as Node | undefined)?.sval);
    c.effects.push({ kind: 'client_encoding', value: v ?? '' });
  }
  if (name === 'application_name') {
    const a = list(body.args)[0] as Node | undefined;
    const v = str(((a?.A_Const as Node | undefined)?.sval as Node | undefined)?.sval);
    c.effects.push({
      kind: 'application_name',
      value: kind === 'VAR_SET_VALUE' && v !== undefined ? v : 'default',
    });
  }
  c.addDb('session');
}
