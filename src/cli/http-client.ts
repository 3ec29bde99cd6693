/** Minimal client for the approver API: AIRLOCK_URL + AIRLOCK_TOKEN. */
import { CliError } from './cli-error.js';

export async function api(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const base = process.env.AIRLOCK_URL;
  const token = process.env.AIRLOCK_TOKEN;
  if (!base)
    throw new CliError('AIRLOCK_URL is not set; export AIRLOCK_URL=http://127.0.0.1:4567 (the gateway API)');
  if (!token)
    throw new CliError('AIRLOCK_TOKEN is not set; use the token printed by `airlock approvers create`');
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'x-airlock-channel': 'cli',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${base}: ${(err as Error).message}; is \`airlock serve\` running?`);
  }
  const data = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new CliError(`${String(data.message ?? res.statusText)} (HTTP ${res.status})`);
  return data;
}
