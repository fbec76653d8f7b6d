import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/** A self-signed certificate and key (PEM, P-256: quick to make) written into dir. */
export function selfSignedCert(dir: string, cn = 'rs1.example.test'): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
