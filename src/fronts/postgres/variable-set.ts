/**
 * SET / RESET: which settings an agent may change freely, which need a `config` grant,
 * and the session effects (search_path, client_encoding, application_name) they report.
 */
import { settingResource } from './actions.js';
import { list, type Node, str } from './parse-tree.js';
import type { Collector } from './scope-collector.js';
import { isEverydaySetting, PINNED_SETTINGS } from './session-settings.js';

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
  if (name !== undefined && sets && changesPinned(name, body)) {
    c.effects.push({ kind: 'pinned_setting', name: pinnedName(name) });
    c.addDb('session');
    return;
  }
  // SET of a pinned setting to its pinned value changes nothing.
  if (name !== undefined && PINNED_SETTINGS.has(name)) {
    c.addDb('session');
    return;
  }
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

/** SET of a pinned setting to another value, or SET TRANSACTION / SESSION CHARACTERISTICS ... READ WRITE. */
function changesPinned(name: string, body: Node): boolean {
  if (name === 'transaction' || name === 'session characteristics')
    return list(body.args).some((a) => {
      const d = (a as Node).DefElem as Node | undefined;
      return str(d?.defname) === 'transaction_read_only' && !isTrue(d?.arg);
    });
  const pinned = PINNED_SETTINGS.get(name);
  if (pinned === undefined) return false;
  const args = list(body.args);
  if (args.length !== 1) return true;
  const a = (args[0] as Node).A_Const as Node | undefined;
  const v = str((a?.sval as Node | undefined)?.sval)?.toLowerCase();
  if (pinned === 'on') return !(isTrue(args[0]) || (v !== undefined && ON.has(v)));
  return v !== pinned;
}

function pinnedName(name: string): string {
  return name === 'transaction' || name === 'session characteristics' ? 'transaction_read_only' : name;
}

const ON = new Set(['on', 'true', 'yes', '1', 't', 'y']);

/** A constant that PostgreSQL reads as boolean true (an integer 1, `true`, or 'on'). */
function isTrue(arg: unknown): boolean {
  const a = (arg as Node | undefined)?.A_Const as Node | undefined;
  if (a === undefined) return false;
  if (a.boolval !== undefined) return (a.boolval as Node).boolval === true;
  if (a.ival !== undefined) return (a.ival as Node).ival === 1;
  const s = str((a.sval as Node | undefined)?.sval);
  return s !== undefined && ON.has(s.toLowerCase());
}
