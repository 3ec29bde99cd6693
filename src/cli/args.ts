/**
 * The command line as `airlock` reads it: its flags (one table), the usage, per-command
 * help, and "did you mean" for a mistyped command or flag (help.ts holds the texts).
 */
import { parseArgs } from 'node:util';
import { CliError } from './cli-error.js';
import { commandHelp, findCommand, groupHelp, suggestCommand, suggestFlag, usage } from './help.js';

export const USAGE = usage();

const OPTIONS = {
  version: { type: 'boolean', default: false },
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  groups: { type: 'string' },
  comment: { type: 'string' },
  confirm: { type: 'string' },
  duration: { type: 'string' },
  'max-uses': { type: 'string' },
  breadth: { type: 'string' },
  status: { type: 'string' },
  agent: { type: 'string' },
  since: { type: 'string' },
  resource: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  import: { type: 'string' },
  mapping: { type: 'string' },
  'max-fail-share': { type: 'string' },
  'min-review-seconds': { type: 'string' },
  checkpoints: { type: 'string' },
  'public-key': { type: 'string' },
  'log-format': { type: 'string' },
  'log-level': { type: 'string' },
  workers: { type: 'string' },
  url: { type: 'string' },
  slack: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  } catch (err) {
    const e = err as Error & { code?: string };
    if (e.code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') throw err;
    const flag = /Unknown option '([^']+)'/.exec(e.message)?.[1] ?? '';
    const guess = suggestFlag(flag, Object.keys(OPTIONS));
    const words = argv.filter((a) => !a.startsWith('-')).slice(0, 2);
    const cmd = findCommand(words.join(' ')) ?? findCommand(words[0] ?? '');
    throw new CliError(
      `unknown option ${flag}${guess === undefined ? '' : `; did you mean ${guess}?`}\n` +
        (cmd === undefined ? 'airlock --help lists the commands' : commandHelp(cmd)),
      2,
    );
  }
}

/** `airlock [COMMAND] --help`: the command's help, its group's, or the usage. */
export function help(words: readonly string[]): { text: string; code: number } {
  if (words.length === 0) return { text: USAGE, code: 0 };
  const cmd = findCommand(words.slice(0, 2).join(' ')) ?? findCommand(words[0] ?? '');
  if (cmd !== undefined) return { text: commandHelp(cmd), code: 0 };
  const group = groupHelp(words[0] ?? '');
  if (group !== undefined) return { text: group, code: 0 };
  return { text: unknownCommand(words), code: 2 };
}

export function unknownCommand(words: readonly string[]): string {
  const guess = suggestCommand(words);
  const said = `unknown command: ${words.join(' ')}`;
  return guess === undefined
    ? `${said}\n${USAGE}`
    : `${said}; did you mean: airlock ${guess}${words.length > 2 ? ` ${words.slice(2).join(' ')}` : ''}?\n(airlock --help lists the commands)`;
}
