/**
 * Airlock's own log: one JSON object per line (pino), written to stdout so that
 * `airlock serve`'s stderr keeps its short human banner and errors. `--log-format pretty`
 * renders the same events for a terminal (pino-pretty).
 *
 * What may be logged is decided by the callers (ops/observer.ts logs named fields, never a
 * payload); the redact paths below are the second line: any field that names a secret is
 * censored wherever a caller puts it.
 */
import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';

export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Field names that hold secrets, at the top level and one or two levels down. */
const SECRET_KEYS = [
  'password',
  'token',
  'secret',
  'secretAccessKey',
  'sessionToken',
  'authorization',
  'cookie',
  'sql',
  'payload',
  'body',
] as const;
export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LogOptions {
  readonly format?: LogFormat | undefined;
  readonly level?: LogLevel | undefined;
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  readonly destination?: DestinationStream | undefined;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    // `name`, not a `service` field: requests log their AWS service under `service`.
    name: 'airlock',
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  if (opts.format === 'pretty') {
    const stream = pretty({
      colorize: opts.destination === undefined && process.stdout.isTTY === true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,name',
      ...(opts.destination === undefined ? {} : { destination: opts.destination as NodeJS.WritableStream }),
      sync: true,
      singleLine: true,
    });
    return pino(options, stream);
  }
  return pino(options, opts.destination ?? pino.destination({ dest: 1, sync: false }));
}

/** A logger that drops everything (tests and library use that pass no logger). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * The `(line) => void` the fronts and older modules take: each line becomes one warn-level
 * event of `component`. Lines are Airlock's own messages (they never carry payload values).
 */
export function lineLog(logger: Logger, component: string): (line: string) => void {
  const child = logger.child({ component });
  return (line: string) => child.warn(line);
}

/** Parses `--log-format` / `--log-level` values, with the accepted ones in the error. */
export function parseLogFormat(v: string | undefined): LogFormat {
  if (v === undefined) return 'json';
  if ((LOG_FORMATS as readonly string[]).includes(v)) return v as LogFormat;
  throw new Error(`--log-format must be ${LOG_FORMATS.join(' or ')} (got ${v})`);
}

export function parseLogLevel(v: string | undefined): LogLevel {
  if (v === undefined) return 'info';
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new Error(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got ${v})`);
}
