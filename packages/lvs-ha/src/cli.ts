#!/usr/bin/env -S node --max-semi-space-size=1
// A director is a long-lived process whose garbage is mostly short-lived
// (a check's result, a netlink message): V8's young generation at 1 MB per
// semi-space instead of up to 16 keeps it about 17 MB smaller at 10,000
// real servers (the scale bench, 118.7 → 101.9 MB RSS) at no measured CPU
// cost. `node dist/cli.js` (no shebang) runs without it.
import { runCli } from './cli-main.js';

// `lvs-ha check | head -1`: once the reader has gone (EPIPE) the stream is
// destroyed and further output is dropped, instead of an unhandled 'error'
// event ending the process with a stack trace; the command finishes and its
// exit status is kept.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}
const write = (stream: NodeJS.WriteStream) => (s: string) => {
  if (!stream.destroyed) stream.write(s);
};

const code = await runCli(process.argv.slice(2), {
  stdout: write(process.stdout),
  stderr: write(process.stderr),
});
process.exitCode = code;
