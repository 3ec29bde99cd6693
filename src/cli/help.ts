/**
 * What `airlock` says about itself: per-command help with flags and an example, the
 * version, and "did you mean" for a mistyped command or flag.
 */
import { readFileSync } from 'node:fs';

export interface FlagHelp {
  readonly flag: string;
  readonly help: string;
}

export interface CommandHelp {
  /** `agents create`, `serve`. */
  readonly name: string;
  /** Arguments after the name, e.g. `NAME [--json]`. */
  readonly args: string;
  readonly summary: string;
  readonly flags: readonly FlagHelp[];
  readonly example: string;
  /** 'local': reads the store named by the config; 'api': talks to a running gateway. */
  readonly via: 'local' | 'api' | 'process';
}

const JSON_FLAG: FlagHelp = { flag: '--json', help: 'print JSON instead of a table' };
const GROUPS_FLAG: FlagHelp = { flag: '--groups G[,G]', help: 'approver groups, comma-separated' };

export const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'serve',
    args: '[--workers N] [--log-format json|pretty] [--log-level LEVEL]',
    summary: 'run the gateway: the AWS front, the Postgres fronts and the approver API',
    flags: [
      {
        flag: '--workers N',
        help: 'N gateway processes sharing the listeners and the store (docs/DEPLOY.md, "Workers"); default 1',
      },
      { flag: '--log-format json|pretty', help: 'JSON lines on stdout (default), or pretty for a terminal' },
      {
        flag: '--log-level LEVEL',
        help: 'trace, debug, info (default), warn, error, fatal, silent; or AIRLOCK_LOG_LEVEL',
      },
    ],
    example: 'airlock --config airlock.yaml serve --log-format pretty',
    via: 'process',
  },
  {
    name: 'policy check',
    args: '',
    summary: 'load the config and its policies; report problems as file:line',
    flags: [],
    example: 'airlock --config airlock.yaml policy check',
    via: 'local',
  },
  {
    name: 'config schema',
    args: '',
    summary: 'print the JSON Schema of airlock.yaml (for editors; also schema/airlock.schema.json)',
    flags: [],
    example: 'airlock config schema > airlock.schema.json',
    via: 'process',
  },
  {
    name: 'agents create',
    args: 'NAME [--json]',
    summary: 'issue an agent key pair (the secret is shown once)',
    flags: [JSON_FLAG],
    example: 'airlock agents create billing-bot',
    via: 'local',
  },
  {
    name: 'agents list',
    args: '[--json]',
    summary: 'list agents (never their secrets)',
    flags: [JSON_FLAG],
    example: 'airlock agents list --json',
    via: 'local',
  },
  {
    name: 'agents revoke',
    args: 'NAME',
    summary: 'revoke an agent: its key stops working at once',
    flags: [],
    example: 'airlock agents revoke billing-bot',
    via: 'local',
  },
  {
    name: 'approvers create',
    args: 'NAME --groups G[,G] [--json]',
    summary: 'create an approver; prints its API token once',
    flags: [GROUPS_FLAG, JSON_FLAG],
    example: 'airlock approvers create alice --groups dba',
    via: 'local',
  },
  {
    name: 'approvers list',
    args: '[--json]',
    summary: 'list approvers and their groups',
    flags: [JSON_FLAG],
    example: 'airlock approvers list',
    via: 'local',
  },
  {
    name: 'approvers revoke',
    args: 'NAME',
    summary: 'revoke an approver: token and console sessions stop at once',
    flags: [],
    example: 'airlock approvers revoke alice',
    via: 'local',
  },
  {
    name: 'approvers set-groups',
    args: 'NAME --groups G[,G]',
    summary: "replace a local approver's groups",
    flags: [GROUPS_FLAG],
    example: 'airlock approvers set-groups alice --groups dba,finance',
    via: 'local',
  },
  {
    name: 'approvers rotate-token',
    args: 'NAME [--json]',
    summary: 'issue a new API token (shown once); the old one stops working',
    flags: [JSON_FLAG],
    example: 'airlock approvers rotate-token alice',
    via: 'local',
  },
  {
    name: 'approvers set-password',
    args: 'NAME',
    summary: 'set a console password (read from stdin, or AIRLOCK_PASSWORD)',
    flags: [],
    example: 'airlock approvers set-password alice   (then type the password)',
    via: 'local',
  },
  {
    name: 'approvals list',
    args: '[--status S] [--json]',
    summary: 'list approvals (pending by default)',
    flags: [{ flag: '--status S', help: 'pending, approved, denied or expired' }, JSON_FLAG],
    example: 'airlock approvals list --status pending',
    via: 'api',
  },
  {
    name: 'approvals show',
    args: 'ID [--json]',
    summary: 'the full request; starts your review clock',
    flags: [JSON_FLAG],
    example: 'airlock approvals show ap_0123',
    via: 'api',
  },
  {
    name: 'approvals approve',
    args: 'ID [--breadth exact|items|scope] [--comment T] [--confirm RESOURCE] [--duration SECONDS] [--max-uses N]',
    summary: 'approve a held request (needs a prior show; guards per risk tier apply)',
    flags: [
      {
        flag: '--breadth B',
        help: 'exact: this request only (an MCP call: these arguments), once; items: these DynamoDB/S3 keys; scope: the operation on the resource (MCP: any call of the tool) for --duration, --max-uses. Default and widest: approvals show',
      },
      { flag: '--comment T', help: 'why; required by some risk tiers' },
      { flag: '--confirm RESOURCE', help: 'the resource name, when the guards ask to type it' },
      { flag: '--duration SECONDS', help: "grant lifetime, at most the policy's maximum" },
      { flag: '--max-uses N', help: 'how many requests the grant covers' },
      JSON_FLAG,
    ],
    example: 'airlock approvals approve ap_0123 --comment "INC-42, checked" --duration 600',
    via: 'api',
  },
  {
    name: 'approvals deny',
    args: 'ID --comment T',
    summary: 'deny a held request, saying why',
    flags: [{ flag: '--comment T', help: 'why (required)' }, JSON_FLAG],
    example: 'airlock approvals deny ap_0123 --comment "not during the freeze"',
    via: 'api',
  },
  {
    name: 'grants list',
    args: '[--agent NAME] [--json]',
    summary: 'list grants',
    flags: [{ flag: '--agent NAME', help: "only this agent's grants" }, JSON_FLAG],
    example: 'airlock grants list --agent billing-bot',
    via: 'api',
  },
  {
    name: 'grants revoke',
    args: 'ID',
    summary: 'revoke a grant now',
    flags: [],
    example: 'airlock grants revoke gr_0123',
    via: 'api',
  },
  {
    name: 'audit show',
    args: 'APPROVAL_ID [--json]',
    summary: 'the linked record of one approval, from the ledger',
    flags: [JSON_FLAG],
    example: 'airlock audit show ap_0123',
    via: 'local',
  },
  {
    name: 'audit verify',
    args: '[--checkpoints DIR] [--public-key FILE]',
    summary: 'check the hash chain, the approvers table and the signed checkpoints; exit 3 on any problem',
    flags: [
      { flag: '--checkpoints DIR', help: 'checkpoint directory (default: audit.checkpoints.dir)' },
      { flag: '--public-key FILE', help: 'the checkpoint signing public key' },
    ],
    example: 'airlock audit verify --checkpoints /var/lib/airlock-checkpoints',
    via: 'local',
  },
  {
    name: 'audit check',
    args: '[--since T] [--agent A] [--resource R] [--format text|json|html] [--out FILE] [--import FILE --mapping MAP.yaml]',
    summary: 'score approvals on the six items; exit 4 when too many fail (docs/AUDIT-CHECK.md)',
    flags: [
      { flag: '--since T', help: 'only approvals since this time' },
      { flag: '--agent A', help: 'only this agent' },
      { flag: '--resource R', help: 'only this resource' },
      { flag: '--format text|json|html', help: 'report format' },
      { flag: '--out FILE', help: 'write the report here' },
      { flag: '--max-fail-share 0.1', help: 'the gate: largest share of failing approvals' },
      { flag: '--min-review-seconds N', help: 'a review shorter than this fails' },
      { flag: '--import FILE', help: "score another system's export" },
      { flag: '--mapping MAP.yaml', help: "how the import's columns map" },
    ],
    example: 'airlock audit check --since 2026-11-01 --format html --out report.html',
    via: 'local',
  },
  {
    name: 'approvers link',
    args: 'NAME --slack USER_ID',
    summary: 'link a Slack user (U…) to an approver: only linked users decide in Slack (docs/SLACK.md)',
    flags: [{ flag: '--slack USER_ID', help: 'the Slack member id (profile → Copy member ID)' }],
    example: 'airlock approvers link alice --slack U0123ABCD',
    via: 'local',
  },
  {
    name: 'webhooks deliveries',
    args: '[--json]',
    summary: 'the latest webhook deliveries: delivered, pending, failed (docs/WEBHOOKS.md)',
    flags: [JSON_FLAG],
    example: 'airlock webhooks deliveries',
    via: 'local',
  },
  {
    name: 'mcp accept',
    args: 'SERVER',
    summary: 'accept an MCP server\'s changed tool definitions (docs/MCP.md, "Pinning")',
    flags: [],
    example: 'airlock mcp accept github',
    via: 'local',
  },
  {
    name: 'mcp stdio',
    args: '--url URL',
    summary:
      'a stdio MCP server relaying to the MCP front, for clients that only spawn servers (token: AIRLOCK_MCP_TOKEN)',
    flags: [{ flag: '--url URL', help: 'the MCP front endpoint, e.g. http://127.0.0.1:4568/mcp/github' }],
    example: 'airlock mcp stdio --url http://127.0.0.1:4568/mcp/github   # AIRLOCK_MCP_TOKEN=KEY:SECRET set',
    via: 'process',
  },
];

export const GLOBAL_FLAGS: readonly FlagHelp[] = [
  { flag: '--config FILE', help: 'the config (default: $AIRLOCK_CONFIG, else ./airlock.yaml)' },
  { flag: '--help, -h', help: 'help; after a command, that command’s help' },
  { flag: '--version', help: 'print the version' },
];

const VIA = {
  local: 'works on the local store named by the config',
  api: 'talks to a running gateway: AIRLOCK_URL and AIRLOCK_TOKEN',
  process: 'long-running',
} as const;

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  const lines = COMMANDS.map(
    (c) => `  ${c.name.padEnd(width)}${c.summary}${c.via === 'api' ? ' (API)' : ''}`,
  );
  return `usage: airlock [--config FILE] <command> [options]
commands:
${lines.join('\n')}
global options:
${GLOBAL_FLAGS.map((f) => `  ${f.flag.padEnd(width)}${f.help}`).join('\n')}
Run airlock COMMAND --help for a command's options and an example.`;
}

export function commandHelp(c: CommandHelp): string {
  const width = Math.max(16, ...c.flags.map((f) => f.flag.length)) + 2;
  const flags =
    c.flags.length === 0
      ? ''
      : `options:\n${c.flags.map((f) => `  ${f.flag.padEnd(width)}${f.help}`).join('\n')}\n`;
  return `usage: airlock ${c.name}${c.args === '' ? '' : ` ${c.args}`}
${c.summary}; ${VIA[c.via]}.
${flags}example:
  ${c.example}`;
}

/** The help of a group (`airlock agents --help`): its commands. */
export function groupHelp(group: string): string | undefined {
  const cmds = COMMANDS.filter((c) => c.name.split(' ')[0] === group);
  if (cmds.length === 0) return undefined;
  return `${cmds.map((c) => commandHelp(c)).join('\n\n')}`;
}

export function findCommand(name: string): CommandHelp | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** Edit distance (Levenshtein; a swap of two neighbours counts as one edit). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i] as number[];
      const prev = d[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min((prev[j] as number) + 1, (row[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
      row[j] = v;
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The closest candidates, if close enough to be a typo (a third of the word, at least 1). */
export function closest(input: string, candidates: readonly string[]): string[] {
  const limit = Math.max(1, Math.floor(input.length / 3));
  const scored = candidates
    .map((c) => ({ c, d: editDistance(input, c) }))
    .filter((s) => s.d <= limit || (input.length >= 3 && s.c.startsWith(input)));
  const best = Math.min(...scored.map((s) => s.d));
  return scored.filter((s) => s.d === best).map((s) => s.c);
}

/**
 * "did you mean" for an unknown command: the group is matched first (`aprovals` →
 * `approvals`), then the subcommand within it.
 */
export function suggestCommand(words: readonly string[]): string | undefined {
  const [w1 = '', w2] = words;
  const groups = [...new Set(COMMANDS.map((c) => c.name.split(' ')[0] as string))];
  const group = groups.includes(w1) ? w1 : closest(w1, groups)[0];
  if (group === undefined) return undefined;
  const subs = COMMANDS.filter((c) => c.name.split(' ')[0] === group).map((c) => c.name.split(' ')[1] ?? '');
  if (subs.length === 1 && subs[0] === '') return group;
  if (w2 === undefined) return undefined;
  const sub = subs.includes(w2) ? w2 : closest(w2, subs)[0];
  if (sub === undefined) return group === w1 ? undefined : `${group} ${w2}`;
  return `${group} ${sub}`;
}

/** "did you mean" for an unknown flag, among the flags the parser knows. */
export function suggestFlag(flag: string, known: readonly string[]): string | undefined {
  const bare = flag.replace(/^-+/, '').split('=')[0] ?? '';
  const hit = closest(bare, known)[0];
  return hit === undefined ? undefined : `--${hit}`;
}

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}
