/**
 * A throwaway self-signed certificate for wss tests, made with the `openssl` command (Debian package
 * `openssl`). Missing openssl fails under CI=true and skips loudly elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsFixture {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

/** Creates the certificate, or returns a reason to skip. */
export function makeTlsFixture(): TlsFixture | string {
  const dir = mkdtempSync(join(tmpdir(), 'conduit-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
  } catch (error) {
    const reason = `openssl is needed for the wss tests (install the Debian package "openssl"): ${(error as Error).message}`;
    if (process.env.CI === 'true') throw new Error(reason);
    console.warn(`SKIPPING: ${reason}`);
    return reason;
  }
  return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
}
