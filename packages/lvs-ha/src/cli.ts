#!/usr/bin/env node
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
