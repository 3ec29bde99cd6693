/**
 * `listen.aws_tls` and `listen.api_tls`: HTTPS on the AWS front and the approver API.
 *   aws_tls: { cert_file: server.pem, key_file: server.key }   # your certificate
 *   aws_tls: { self_signed: true }                             # generated into data_dir
 * Absent: plain HTTP (a startup warning when the listener is not on loopback).
 */
import { resolve } from 'node:path';
import type { z } from 'zod';
import { bool, obj, text } from './schema-fields.js';

export type ListenerTls =
  | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string }
  | { readonly kind: 'self-signed' };

export function listenerTlsSchema(key: 'aws_tls' | 'api_tls') {
  return obj({
    cert_file: text().optional().describe('PEM certificate (chain), relative to the config file'),
    key_file: text().optional().describe('PEM private key of cert_file'),
    self_signed: bool().optional().describe('generate a self-signed certificate into data_dir'),
  })
    .superRefine((t, ctx) => {
      const cert = (t.cert_file ?? '') !== '';
      const keyFile = (t.key_file ?? '') !== '';
      const selfSigned = t.self_signed === true;
      if ((cert && keyFile && !selfSigned) || (!cert && !keyFile && selfSigned)) return;
      ctx.addIssue({
        code: 'custom',
        message: `listen.${key} needs cert_file and key_file, or self_signed: true (not both)`,
      });
    })
    .optional()
    .describe(`HTTPS: cert_file + key_file, or self_signed: true (absent: plain HTTP)`);
}

export function buildListenerTls(
  t: z.output<ReturnType<typeof listenerTlsSchema>>,
  base: string,
): ListenerTls | undefined {
  if (t === undefined || t === null) return undefined;
  if (t.self_signed === true) return { kind: 'self-signed' };
  return {
    kind: 'files',
    certFile: resolve(base, t.cert_file ?? ''),
    keyFile: resolve(base, t.key_file ?? ''),
  };
}
