/**
 * The certificate agents see when they ask for TLS (SSLRequest). A configured
 * cert/key pair wins; otherwise a self-signed one is generated once into the data
 * directory with the system's `openssl` (Node has no certificate builder) and reused.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type SecureContext } from 'node:tls';

export interface ClientTlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export function loadOrCreateTls(dataDir: string, configured: ClientTlsFiles | undefined): SecureContext {
  const files = configured ?? selfSigned(dataDir);
  return createSecureContext({
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    minVersion: 'TLSv1.2',
  });
}

function selfSigned(dataDir: string): ClientTlsFiles {
  const dir = join(dataDir, 'postgres-tls');
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
        '/CN=airlock-postgres',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
  } catch (err) {
    throw new Error(
      `cannot generate the Postgres front's TLS certificate with openssl (${(err as Error).message.split('\n')[0]}); ` +
        'install openssl or set databases[].client_tls.cert_file and key_file',
    );
  }
  return { certFile, keyFile };
}
