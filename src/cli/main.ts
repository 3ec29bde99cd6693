/**
 * `airlock` — serve the gateway, manage identities, decide approvals, read the record.
 * Identity and audit commands work on the local store named by the config;
 * approvals and grants go through the gateway's API (AIRLOCK_URL, AIRLOCK_TOKEN).
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { AdminError, createAgent, createApprover, rotateApproverToken, setApproverGroups } from '../admin.js';
import { hashPassword } from '../api/passwords.js';
import { loadPolicy, mcpPinsPath, openMasterKey, openStore } from '../app.js';
import type { AirlockConfig } from '../config/config.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { configJsonSchema } from '../config/schema.js';
import { safe } from '../core/text-table.js';
import { GRANT_BREADTHS, type GrantBreadth } from '../core/types.js';
import { ToolPins } from '../fronts/mcp/pins.js';
import { auditRecord } from '../ledger/audit.js';
import { migrateConfiguredStore } from '../open-store.js';
import { parseLogFormat, parseLogLevel } from '../ops/log.js';
import { help, parse, USAGE, unknownCommand } from './args.js';
import { runAuditCheck } from './audit-check-command.js';
import { auditVerify } from './audit-verify.js';
import { channelCommand } from './channel-commands.js';
import { CliError } from './cli-error.js';
import { commandHelp, findCommand, version } from './help.js';
import { api } from './http-client.js';
import { mcpStdioBridge } from './mcp-stdio.js';
import { readPassword } from './password-input.js';
import { printApproval, printAudit, table } from './print.js';
import { serve } from './serve.js';

function breadthFlag(v: string): GrantBreadth {
  if ((GRANT_BREADTHS as readonly string[]).includes(v)) return v as GrantBreadth;
  throw new CliError(
    '--breadth must be exact (this request once), items (these keys) or scope (the operation on the resource)',
    2,
  );
}

/** Who runs a host-side command, for the record: the operating-system user. */
function operator(): string {
  try {
    return `os:${userInfo().username}`;
  } catch {
    return `os:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  const [cmd, sub, arg] = positionals;
  if (values.version) {
    process.stdout.write(`airlock ${version()} (node ${process.versions.node})\n`);
    return 0;
  }
  if (values.help) {
    const h = help(positionals);
    (h.code === 0 ? process.stdout : process.stderr).write(`${h.text}\n`);
    return h.code;
  }
  if (cmd === undefined) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const configPath = values.config ?? process.env.AIRLOCK_CONFIG ?? 'airlock.yaml';
  const config = (): AirlockConfig => {
    if (!existsSync(configPath)) {
      const from =
        values.config !== undefined
          ? 'named by --config'
          : process.env.AIRLOCK_CONFIG !== undefined
            ? 'named by AIRLOCK_CONFIG'
            : 'the default, in the current directory';
      throw new CliError(
        `no config file ${resolve(configPath)} (${from}); name one with --config FILE or AIRLOCK_CONFIG=FILE (README, "Config")`,
      );
    }
    return loadConfig(configPath);
  };
  const out = (v: unknown) =>
    process.stdout.write(`${typeof v === 'string' ? v : JSON.stringify(v, null, 2)}\n`);
  const need = (v: string | undefined, what: string): string => {
    if (v === undefined || v === '') {
      const c = findCommand(`${cmd} ${sub ?? ''}`.trim());
      throw new CliError(`missing ${what}\n${c === undefined ? USAGE : commandHelp(c)}`, 2);
    }
    return v;
  };
  const int = (v: string | undefined, what: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new CliError(`${what} must be a positive integer`, 2);
    return n;
  };

  switch (`${cmd} ${sub ?? ''}`.trim()) {
    case 'serve':
      return serve(config(), {
        workers: int(values.workers, '--workers') ?? 1,
        logFormat: cliValue(() => parseLogFormat(values['log-format'])),
        logLevel: cliValue(() => parseLogLevel(values['log-level'] ?? process.env.AIRLOCK_LOG_LEVEL)),
      });
    case 'config schema':
      out(configJsonSchema());
      return 0;
    case 'store migrate':
      out(await migrateConfiguredStore(config()));
      return 0;
    case 'policy check': {
      const cfg = config();
      const engine = await loadPolicy(cfg);
      for (const w of engine.warnings) process.stderr.write(`warning: ${w}\n`);
      out(
        `ok: ${cfg.policies.length} file(s), ${engine.policyIds.length} policies: ${engine.policyIds.join(', ')}`,
      );
      return 0;
    }
    case 'mcp stdio':
      return mcpStdioBridge(need(values.url, '--url'), process.env.AIRLOCK_MCP_TOKEN);
    case 'mcp accept': {
      const cfg = config();
      const server = need(arg, 'SERVER');
      if (!cfg.mcp?.servers.some((s) => s.name === server))
        throw new CliError(`no MCP server ${server} in ${cfg.source}`, 2);
      // The ledger first: a pin that moved without its entry would be an unrecorded acceptance.
      const pins = new ToolPins(mcpPinsPath(cfg));
      const changed = pins.changed(server);
      if (changed.length > 0) {
        const store = openStore(cfg, openMasterKey(cfg));
        try {
          const by = operator();
          for (const c of changed)
            await store.recordMcpToolAccepted({
              server,
              tool: c.tool,
              oldHash: c.from,
              newHash: c.to,
              by,
              at: new Date(),
            });
        } finally {
          await store.close();
        }
      }
      const accepted = changed.length === 0 ? [] : pins.accept(server, changed);
      if (values.json) out(accepted);
      else if (accepted.length === 0) out(`${server}: no changed tool definitions to accept`);
      else
        for (const a of accepted)
          out(`${server}: accepted ${a.tool}: sha256 ${a.from.slice(0, 16)}… → ${a.to.slice(0, 16)}…`);
      return 0;
    }
    case 'agents create':
    case 'agents list':
    case 'agents revoke':
    case 'approvers create':
    case 'approvers list':
    case 'approvers set-password':
    case 'approvers revoke':
    case 'approvers set-groups':
    case 'approvers rotate-token':
    case 'audit show':
    case 'audit verify':
      return await local(config(), `${cmd} ${sub}`, arg, values, out, need);
    case 'approvers link':
    case 'webhooks deliveries':
      return await channelCommand(config(), `${cmd} ${sub}`, arg, values, out);
    case 'audit check': {
      // An import needs no Airlock config; use one only if it was named or exists.
      const named = values.config !== undefined || process.env.AIRLOCK_CONFIG !== undefined;
      const cfg = values.import === undefined || named || existsSync(configPath) ? config() : undefined;
      return await runAuditCheck({
        flags: values,
        settings: cfg?.auditCheck,
        openStore: () => {
          if (cfg === undefined) throw new CliError('audit check needs --config (or --import)', 2);
          return openStore(cfg, openMasterKey(cfg));
        },
      });
    }
    case 'approvals list': {
      const r = await api('GET', `/v1/approvals?status=${encodeURIComponent(values.status ?? 'pending')}`);
      const list = r.approvals as Record<string, unknown>[];
      if (values.json) out(list);
      else out(table(list, ['id', 'agent', 'operation', 'status', 'createdAt', 'expiresAt']));
      return 0;
    }
    case 'approvals show': {
      const r = await api('GET', `/v1/approvals/${encodeURIComponent(need(arg, 'approval id'))}`);
      out(values.json ? r : printApproval(r));
      return 0;
    }
    case 'approvals approve':
    case 'approvals deny': {
      const id = need(arg, 'approval id');
      if (sub === 'deny' && !values.comment) throw new CliError('a denial needs --comment "why"', 2);
      const r = await api('POST', `/v1/approvals/${encodeURIComponent(id)}/${sub}`, {
        comment: values.comment ?? '',
        durationSeconds: int(values.duration, '--duration'),
        maxUses: int(values['max-uses'], '--max-uses'),
        ...(values.breadth === undefined ? {} : { breadth: breadthFlag(values.breadth) }),
        ...(values.confirm === undefined ? {} : { confirm: values.confirm }),
      });
      const grant = r.grant as Record<string, unknown> | undefined;
      out(
        values.json
          ? r
          : `${id}: ${String(r.state)}${grant ? ` — grant ${String(grant.id)} until ${String(grant.expiresAt)}\n  ${String(grant.breadth)}: ${safe(String(grant.description ?? ''))}` : ''}`,
      );
      return 0;
    }
    case 'grants list': {
      const q = values.agent ? `?agent=${encodeURIComponent(values.agent)}` : '';
      const r = await api('GET', `/v1/grants${q}`);
      const list = r.grants as Record<string, unknown>[];
      out(values.json ? list : table(list, ['id', 'agent', 'approvalId', 'expiresAt', 'uses', 'revokedAt']));
      return 0;
    }
    case 'grants revoke': {
      const r = await api('POST', `/v1/grants/${encodeURIComponent(need(arg, 'grant id'))}/revoke`);
      out(`revoked ${String(r.revoked)}`);
      return 0;
    }
    default:
      throw new CliError(unknownCommand(positionals), 2);
  }
}

async function local(
  cfg: AirlockConfig,
  cmd: string,
  arg: string | undefined,
  values: { json?: boolean; groups?: string; checkpoints?: string; 'public-key'?: string },
  out: (v: unknown) => void,
  need: (v: string | undefined, what: string) => string,
): Promise<number> {
  const key = openMasterKey(cfg);
  const store = openStore(cfg, key);
  try {
    switch (cmd) {
      case 'agents create': {
        const a = await createAgent(store, key, need(arg, 'agent name'));
        out(
          values.json
            ? a
            : `agent ${a.name}\n  accessKeyId      ${a.accessKeyId}\n  secretAccessKey  ${a.secretAccessKey}  (shown once)`,
        );
        return 0;
      }
      case 'agents list': {
        const list = (await store.listAgents()).map(({ sealedSecret: _s, ...a }) => a);
        out(
          values.json
            ? list
            : table(list as unknown as Record<string, unknown>[], [
                'name',
                'accessKeyId',
                'createdAt',
                'revokedAt',
              ]),
        );
        return 0;
      }
      case 'agents revoke': {
        const name = need(arg, 'agent name');
        if (!(await store.revokeAgent(name, new Date()))) throw new CliError(`no active agent named ${name}`);
        out(`revoked agent ${name}`);
        return 0;
      }
      case 'approvers create': {
        const groups = splitGroups(values.groups);
        const a = await createApprover(store, need(arg, 'approver name'), groups);
        out(
          values.json
            ? a
            : `approver ${a.name} (groups: ${a.groups.join(', ')})\n  token  ${a.token}  (shown once; export AIRLOCK_TOKEN=...)`,
        );
        return 0;
      }
      case 'approvers list': {
        const list = (await store.listApprovers()).map(({ tokenHash: _t, ...a }) => a);
        out(
          values.json
            ? list
            : table(list as unknown as Record<string, unknown>[], [
                'name',
                'groups',
                'createdAt',
                'revokedAt',
              ]),
        );
        return 0;
      }
      case 'approvers set-password': {
        const name = need(arg, 'approver name');
        const hash = await hashPassword(await readPassword());
        if (!(await store.setApproverPassword(name, hash, new Date()))) {
          throw new CliError(
            `no active local approver named ${name} (create it: airlock approvers create ${name} --groups G)`,
          );
        }
        out(`console password set for ${name}`);
        return 0;
      }
      case 'audit show': {
        const id = need(arg, 'approval id');
        const rec = await auditRecord(store, id);
        if (rec === undefined) throw new CliError(`no approval ${id} in the ledger`);
        out(values.json ? rec : printAudit(rec));
        return 0;
      }
      case 'audit verify':
        return await auditVerify(store, cfg, values, out);
      case 'approvers revoke': {
        const name = need(arg, 'approver name');
        if (!(await store.revokeApprover(name, new Date())))
          throw new CliError(`no active approver named ${name}`);
        out(`revoked approver ${name}: its token and console sessions stop working now`);
        return 0;
      }
      case 'approvers set-groups': {
        const name = need(arg, 'approver name');
        const groups = splitGroups(values.groups);
        await setApproverGroups(store, name, groups);
        out(`approver ${name} groups: ${groups.join(', ')}`);
        return 0;
      }
      case 'approvers rotate-token': {
        const name = need(arg, 'approver name');
        const token = await rotateApproverToken(store, name);
        out(
          values.json
            ? { name, token }
            : `approver ${name}\n  token  ${token}  (shown once; the old token no longer works)`,
        );
        return 0;
      }
      default:
        throw new CliError(`unknown command ${cmd}`, 2);
    }
  } finally {
    await store.close();
  }
}

/** A flag value parser's error as a usage error (exit 2). */
function cliValue<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}

function splitGroups(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError || err instanceof ConfigError || err instanceof AdminError) {
      process.stderr.write(`airlock: ${err.message}\n`);
      process.exitCode = err instanceof CliError ? err.exitCode : 1;
      return;
    }
    const e = err as Error;
    if (e.name === 'PolicyLoadError') {
      process.stderr.write(`airlock: policy does not load:\n${e.message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`airlock: ${e.message}\n`);
    process.exitCode = 1;
  },
);
