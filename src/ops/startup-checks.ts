/**
 * Checks `airlock serve` runs once it is up. Each finding is a warning that names the
 * fix; none stops the gateway (a Postgres-only deployment needs no AWS credentials, and a
 * route may be waiting for its policy).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AirlockConfig } from '../config/config.js';
import type { PolicyDecision, PolicyInput } from '../core/types.js';
import type { CredentialSource } from '../upstream/aws-credentials.js';

export interface StartupProblem {
  readonly check: string;
  readonly problem: string;
  readonly fix: string;
}

/**
 * botocore's (boto3, AWS CLI) default read timeout is 60 s: a hold window at or past it
 * makes the client give up and retry before Airlock answers the hold.
 */
export const CLIENT_READ_TIMEOUT_SECONDS = 60;

export function checkHoldWindow(config: AirlockConfig): StartupProblem[] {
  const w = config.holds.windowSeconds;
  if (w < CLIENT_READ_TIMEOUT_SECONDS) return [];
  return [
    {
      check: 'hold-window',
      problem: `holds.window_seconds is ${w}, at or above the ${CLIENT_READ_TIMEOUT_SECONDS} s default read timeout of boto3 and the AWS CLI: a held request times out in the client (and is retried) before Airlock answers it`,
      fix: `set holds.window_seconds below ${CLIENT_READ_TIMEOUT_SECONDS} (e.g. 50) in ${config.source}, or raise the clients' read timeout (AWS CLI --cli-read-timeout, botocore Config(read_timeout=...))`,
    },
  ];
}

/** The data directory should be 0700 and Airlock's files in it 0600. */
export function checkFileModes(config: AirlockConfig): StartupProblem[] {
  const problems: StartupProblem[] = [];
  const dir = config.dataDir;
  const modeOf = (p: string): number | undefined => (existsSync(p) ? statSync(p).mode & 0o777 : undefined);
  const d = modeOf(dir);
  if (d !== undefined && (d & 0o077) !== 0) {
    problems.push({
      check: 'file-modes',
      problem: `data directory ${dir} is open to group/others (mode ${d.toString(8)})`,
      fix: `chmod 700 ${dir}`,
    });
  }
  for (const name of ['master.key', 'airlock.sqlite', 'airlock.sqlite-wal', 'airlock.sqlite-shm']) {
    const p = join(dir, name);
    const m = modeOf(p);
    if (m !== undefined && (m & 0o077) !== 0) {
      problems.push({
        check: 'file-modes',
        problem: `${p} is readable by group/others (mode ${m.toString(8)})`,
        fix: `chmod 600 ${p}`,
      });
    }
  }
  return problems;
}

/** An example resource for an ARN glob: each `*` becomes a plausible segment. */
function sampleArn(glob: string, accountId: string): string {
  const parts = glob.split(':');
  const fill = (s: string, v: string) => (s === '*' ? v : s.replaceAll('*', 'x'));
  return [
    parts[0] ?? 'arn',
    parts[1] ?? 'aws',
    parts[2] ?? '',
    fill(parts[3] ?? '', parts[3] === '' ? '' : 'us-east-1'),
    fill(parts[4] ?? '', parts[4] === '' ? '' : accountId),
    ...parts.slice(5).map((s) => s.replaceAll('*', 'x')),
  ].join(':');
}

/**
 * A resource route no policy can reach: for every agent in the store and every action the
 * route's service knows, the policy answers "default deny" on an example resource of the
 * route. A heuristic (conditions on context are evaluated with a reason and now); with no
 * agents yet, nothing can be said and nothing is reported.
 */
export function checkRoutesReachable(
  config: AirlockConfig,
  agents: readonly string[],
  knownActions: readonly string[],
  evaluate: (input: PolicyInput) => PolicyDecision,
): StartupProblem[] {
  if (agents.length === 0) return [];
  const problems: StartupProblem[] = [];
  for (const route of config.resources) {
    const service = route.arn.split(':')[2] ?? '';
    const actions = knownActions.filter((a) => a.startsWith(`${service}:`));
    if (actions.length === 0) continue;
    const resource = sampleArn(route.arn, config.aws.accountId);
    const reached = agents.slice(0, 20).some((agent) =>
      actions.some((action) => {
        const d = evaluate({
          agent,
          scopes: [{ action, resource }],
          context: {
            reason: 'startup check',
            time: new Date(),
            sourceIp: '127.0.0.1',
            front: 'aws',
            service,
            operation: action.slice(service.length + 1),
            region: resource.split(':')[3] || 'us-east-1',
            grantId: undefined,
          },
        });
        return d.effect !== 'deny' || !d.reasons.includes('default-deny');
      }),
    );
    if (!reached) {
      problems.push({
        check: 'route-unreachable',
        problem: `resources route ${route.arn} (to ${route.endpoint}) is reached by no policy: every ${service} action on ${resource} is denied by default for every agent`,
        fix: `add a permit policy for ${route.arn} to one of ${config.policies.join(', ')}, or remove the route from ${config.source}`,
      });
    }
  }
  return problems;
}

/** Resolves the AWS credential chain once, bounded in time. */
export async function checkCredentials(
  credentials: CredentialSource,
  timeoutMs = 5000,
): Promise<StartupProblem | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      credentials(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return undefined;
  } catch (err) {
    return {
      check: 'aws-credentials',
      problem: `Airlock found no AWS credentials of its own (${(err as Error).message.split('\n')[0]}); requests Airlock allows on the AWS front will fail with InternalFailure`,
      fix: 'give the airlock process credentials through the default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a web identity token, or an ECS task / EC2 instance role',
    };
  } finally {
    clearTimeout(timer);
  }
}
