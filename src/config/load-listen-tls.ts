/**
 * `listen.aws_tls` and `listen.api_tls`: HTTPS on the AWS front and the approver API.
 *   aws_tls: { cert_file: server.pem, key_file: server.key }   # your certificate
 *   aws_tls: { self_signed: true }                             # generated into data_dir
 * Absent: plain HTTP (a startup warning when the listener is not on loopback).
 */
import { resolve } from 'node:path';
import type { YAMLMap } from 'yaml';
import type { Reader } from './load.js';

export type ListenerTls =
  | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string }
  | { readonly kind: 'self-signed' };

export function readListenerTls(
  r: Reader,
  listen: YAMLMap | undefined,
  key: 'aws_tls' | 'api_tls',
  base: string,
): ListenerTls | undefined {
  const m = r.map(listen, key);
  if (m === undefined) return undefined;
  r.onlyKeys(m, ['cert_file', 'key_file', 'self_signed'], `listen.${key}.`);
  const cert = r.str(m, 'cert_file', '');
  const keyFile = r.str(m, 'key_file', '');
  const selfSigned = r.bool(m, 'self_signed', false);
  if (cert !== '' && keyFile !== '' && !selfSigned)
    return { kind: 'files', certFile: resolve(base, cert), keyFile: resolve(base, keyFile) };
  if (cert === '' && keyFile === '' && selfSigned) return { kind: 'self-signed' };
  r.problem(
    listen as YAMLMap,
    key,
    `listen.${key} needs cert_file and key_file, or self_signed: true (not both)`,
  );
  return undefined;
}
