/**
 * The certificate a listener presents (the Postgres front on SSLRequest, the AWS front
 * and the API over HTTPS). A configured cert/key pair wins; otherwise a self-signed one
 * is generated once into `dataDir/NAME-tls/` with the system's `openssl` (Node has no
 * certificate builder) and reused, so clients can pin it (its cert.pem is their CA file).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';

export interface ClientTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export function loadOrCreateTls(
  dataDir: string,
  configured: ClientTlsFiles | undefined,
  name = 'postgres',
): SecureContext {
  const files = tlsFiles(dataDir, configured, name);
  return createSecureContext({
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    minVersion: 'TLSv1.2',
  });
}

/** The configured files, or the self-signed pair for listener `name` (made on first use). */
export function tlsFiles(
  dataDir: string,
  configured: ClientTlsFiles | undefined,
  name: string,
): ClientTlsFiles {
  return configured ?? selfSigned(dataDir, name);
}

function selfSigned(dataDir: string, name: string): ClientTlsFiles {
  const dir = join(dataDir, `${name}-tls`);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '825',
        '-subj',
        `/CN=airlock-${name}`,
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
  } catch (err) {
    throw new Error(
      `cannot generate the ${name} listener's TLS certificate with openssl (${(err as Error).message.split('\n')[0]}); ` +
        'install openssl or configure cert_file and key_file for it',
    );
  }
  return { certFile, keyFile };
}
