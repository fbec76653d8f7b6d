import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * A self-signed certificate and key (PEM, P-256: quick to make) written into
 * dir, valid for the name and for 127.0.0.1 and ::1 (so that a client that
 * verifies, like ldirectord's Perl, can be told to trust it).
 */
export function selfSignedCert(dir: string, cn = 'rs1.example.test'): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
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
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
      '-addext',
      `subjectAltName=DNS:${cn},IP:127.0.0.1,IP:::1`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}
