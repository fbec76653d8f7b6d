import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfSignedCert } from './cert.js';
import type { Daemon, ServiceLab } from './lab.js';

/**
 * Debian's nginx with a configuration of its own under the lab's temp dir:
 * http on 127.0.0.1:80, https (self-signed) on 443; /server-status answers
 * "nginx status: ok", everything else is 404.
 */
export async function startNginx(lab: ServiceLab): Promise<Daemon> {
  const { cert, key } = selfSignedCert(lab.dir);
  const p = join(lab.dir, 'nginx');
  for (const sub of ['', 'logs', 'tmp', 'www']) mkdirSync(join(p, sub), { recursive: true });
  const conf = join(p, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${p}/nginx.pid;
error_log ${p}/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${p}/tmp/body;
  proxy_temp_path ${p}/tmp/proxy;
  fastcgi_temp_path ${p}/tmp/fastcgi;
  uwsgi_temp_path ${p}/tmp/uwsgi;
  scgi_temp_path ${p}/tmp/scgi;
  server {
    listen 127.0.0.1:80;
    listen 127.0.0.1:443 ssl;
    server_name rs1.example.test;
    ssl_certificate ${cert};
    ssl_certificate_key ${key};
    root ${p}/www;
    location = /server-status {
      default_type text/plain;
      return 200 "nginx status: ok\\n";
    }
  }
}
`,
  );
  const daemon = lab.spawn('nginx', ['nginx', '-p', p, '-e', `${p}/logs/error.log`, '-c', conf]);
  await lab.waitListening(80, 'tcp', daemon);
  await lab.waitListening(443, 'tcp', daemon);
  return daemon;
}
