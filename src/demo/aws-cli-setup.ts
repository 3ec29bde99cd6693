/**
 * The AWS CLI commands the demo prints, fitted to the CLI on this machine. The reason
 * header comes from examples/aws-cli-plugin, which the two major versions load differently:
 * v2 reads `plugins.cli_legacy_plugin_path`, v1 imports plugins from the Python path and
 * fails on every command when that v2-only key is set. v2 before 2.13 ignores
 * AWS_ENDPOINT_URL and would talk to real AWS, so the commands also pass --endpoint-url.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface AwsCliSetup {
  /** `aws --version`'s first word, e.g. `aws-cli/2.15.0`, or undefined when none runs. */
  readonly version: string | undefined;
  /** Lines to export before running the commands. */
  readonly exports: string[];
  /** A warning to print, when the installed CLI needs one. */
  readonly note: string | undefined;
}

function awsVersion(): Promise<string | undefined> {
  return new Promise((res) => {
    execFile('aws', ['--version'], { timeout: 5000 }, (err, stdout, stderr) => {
      if (err) return res(undefined);
      res(/aws-cli\/[\d.]+/.exec(`${stdout} ${stderr}`)?.[0]);
    });
  });
}

/** Writes `dir/aws-config` for the installed CLI and says what to export. */
export async function awsCliSetup(dir: string): Promise<AwsCliSetup> {
  const version = await awsVersion();
  const plugin = resolve('examples/aws-cli-plugin');
  const [major = 0, minor = 0] = (version?.split('/')[1] ?? '').split('.').map(Number);
  const configFile = join(dir, 'aws-config');
  const v1 = major === 1;
  writeFileSync(
    configFile,
    `[default]\nregion = us-east-1\ncli_pager =\n[plugins]\n${v1 ? '' : `cli_legacy_plugin_path = ${plugin}\n`}airlock_reason = airlock_reason\n`,
  );
  const exports = [`export AWS_CONFIG_FILE=${configFile}`];
  if (v1) exports.push(`export PYTHONPATH=${plugin}   # AWS CLI v1 loads the reason plugin from here`);
  let note: string | undefined;
  if (version === undefined) note = 'no `aws` on PATH: install AWS CLI v2 (2.13 or later) to try these';
  else if (major === 2 && minor < 13)
    note = `${version} ignores AWS_ENDPOINT_URL (needs 2.13+): keep the --endpoint-url on every command`;
  return { version, exports, note };
}
