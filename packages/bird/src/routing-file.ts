// bgp.cf: the file of ours, beside Heartbeat's, that gives a director its
// BGP side (pure: text in, a DirectorBirdConfig out, file:line:column
// errors). One directive per line, words separated by blanks, `#` starts a
// comment, a word may be "double quoted". The VIPs usually come from
// ldirectord.cf's virtual services (the caller passes them); `vip` lines
// add more.
//
//   router-id 192.0.2.11
//   local-as 64513
//   neighbor 192.0.2.1 as 64512
//   neighbor 192.0.2.2 as 64512 password "s3cret" source 192.0.2.11
//   neighbor fe80::1%eth0 as 64512
//   bfd 100ms 3            # interval and multiplier; "bfd off" for none
//   hold-time 9
import { type BgpNeighbor, type DirectorBirdConfig, writeDirectorConfig } from './config.js';
import { BirdConfigError } from './errors.js';

export interface RoutingFileOptions {
  /** VIPs from elsewhere (ldirectord.cf's virtual services), announced as well as the file's `vip` lines */
  vips?: readonly string[];
}

interface Word {
  text: string;
  column: number;
}

function words(line: string, where: (column: number) => string): Word[] {
  const out: Word[] = [];
  let i = 0;
  while (i < line.length) {
    const ch = line[i] as string;
    if (ch === ' ' || ch === '\t') {
      i += 1;
      continue;
    }
    if (ch === '#') break;
    const column = i + 1;
    if (ch === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new BirdConfigError(where(column), 'a quote that does not end on its line');
      out.push({ text: line.slice(i + 1, end), column });
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < line.length && !/[ \t#]/.test(line[j] as string)) j += 1;
    out.push({ text: line.slice(i, j), column });
    i = j;
  }
  return out;
}

const DIRECTIVES = [
  'router-id',
  'local-as',
  'neighbor',
  'vip',
  'bfd',
  'hold-time',
  'keepalive-time',
  'connect-delay',
  'connect-retry',
  'error-wait',
  'log',
] as const;
type Directive = (typeof DIRECTIVES)[number];

/**
 * Reads bgp.cf. Throws BirdConfigError whose `where` is `FILE:LINE:COLUMN`
 * for a directive it does not know, a missing or extra argument, a value
 * out of range, or (through writeDirectorConfig, which it runs) anything
 * BIRD would refuse; a message names the field.
 */
export function parseRoutingFile(
  text: string,
  file = 'bgp.cf',
  options: RoutingFileOptions = {},
): DirectorBirdConfig {
  const at = (line: number, column: number) => `${file}:${line}:${column}`;
  const seen = new Map<Directive, number>();
  const neighbors: BgpNeighbor[] = [];
  const neighborLines: number[] = [];
  const vips: string[] = [];
  const vipLines: number[] = [];
  const config: Partial<DirectorBirdConfig> & { neighbors: BgpNeighbor[]; vips: string[] } = {
    neighbors,
    vips,
  };
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const n = index + 1;
    const w = words(raw, (c) => at(n, c));
    if (w.length === 0) return;
    const head = w[0] as Word;
    const args = w.slice(1);
    const name = head.text.toLowerCase() as Directive;
    if (!DIRECTIVES.includes(name)) {
      throw new BirdConfigError(
        at(n, head.column),
        `unknown directive "${head.text}" (${DIRECTIVES.join(', ')})`,
      );
    }
    const once = name !== 'neighbor' && name !== 'vip';
    if (once && seen.has(name))
      throw new BirdConfigError(at(n, head.column), `"${name}" again (first on line ${seen.get(name)})`);
    seen.set(name, n);
    const want = (count: number, usage: string) => {
      if (args.length !== count) {
        const col = (args[count] ?? args[args.length - 1] ?? head).column;
        throw new BirdConfigError(at(n, col), `usage: ${name} ${usage}`);
      }
    };
    const int = (word: Word, min: number, max: number, unit = ''): number => {
      const m = new RegExp(`^(\\d+)${unit}$`).exec(word.text);
      const v = m ? Number(m[1]) : Number.NaN;
      if (!Number.isSafeInteger(v) || v < min || v > max)
        throw new BirdConfigError(
          at(n, word.column),
          `"${word.text}" is not a number from ${min} to ${max}${unit}`,
        );
      return v;
    };
    switch (name) {
      case 'router-id':
        want(1, 'IPV4-ADDRESS');
        config.routerId = (args[0] as Word).text;
        break;
      case 'local-as':
        want(1, 'AS');
        config.localAs = int(args[0] as Word, 1, 4294967295);
        break;
      case 'vip':
        if (args.length === 0) throw new BirdConfigError(at(n, head.column), 'usage: vip ADDRESS...');
        for (const a of args) {
          vips.push(a.text);
          vipLines.push(n);
        }
        break;
      case 'hold-time':
        want(1, 'SECONDS (0, or 3-65535)');
        config.holdTime = int(args[0] as Word, 0, 65535);
        break;
      case 'keepalive-time':
        want(1, 'SECONDS');
        config.keepaliveTime = int(args[0] as Word, 1, 65535);
        break;
      case 'connect-delay':
        want(1, 'SECONDS');
        config.connectDelayTime = int(args[0] as Word, 0, 65535);
        break;
      case 'connect-retry':
        want(1, 'SECONDS');
        config.connectRetryTime = int(args[0] as Word, 1, 65535);
        break;
      case 'error-wait':
        want(2, 'MIN-SECONDS MAX-SECONDS');
        config.errorWaitTime = [int(args[0] as Word, 1, 65535), int(args[1] as Word, 1, 65535)];
        break;
      case 'log': {
        want(1, 'stderr | syslog | /PATH');
        const v = (args[0] as Word).text;
        if (v === 'stderr' || v === 'syslog') config.log = v;
        else if (v.startsWith('/')) config.log = { file: v };
        else throw new BirdConfigError(at(n, (args[0] as Word).column), 'stderr, syslog or an absolute path');
        break;
      }
      case 'bfd': {
        if (args.length === 1 && (args[0] as Word).text === 'off') {
          config.bfd = false;
          break;
        }
        want(2, 'INTERVALms MULTIPLIER | off');
        config.bfd = {
          intervalMs: int(args[0] as Word, 1, 60000, 'ms'),
          multiplier: int(args[1] as Word, 1, 255),
        };
        break;
      }
      case 'neighbor': {
        if (args.length < 3 || (args[1] as Word).text !== 'as')
          throw new BirdConfigError(
            at(n, (args[0] ?? head).column),
            'usage: neighbor ADDRESS[%IFACE] as AS [password P] [source ADDRESS] [multihop N] [port N] [name NAME]',
          );
        const addr = (args[0] as Word).text;
        const pct = addr.indexOf('%');
        const neighbor: BgpNeighbor = {
          address: pct < 0 ? addr : addr.slice(0, pct),
          as: int(args[2] as Word, 1, 4294967295),
        };
        if (pct >= 0) neighbor.interface = addr.slice(pct + 1);
        for (let i = 3; i < args.length; i += 2) {
          const key = args[i] as Word;
          const value = args[i + 1];
          if (!value) throw new BirdConfigError(at(n, key.column), `"${key.text}" without its value`);
          if (key.text === 'password') neighbor.password = value.text;
          else if (key.text === 'source') neighbor.sourceAddress = value.text;
          else if (key.text === 'multihop') neighbor.multihop = int(value, 1, 255);
          else if (key.text === 'port') neighbor.port = int(value, 1, 65535);
          else if (key.text === 'name') neighbor.name = value.text;
          else
            throw new BirdConfigError(
              at(n, key.column),
              `unknown neighbor option "${key.text}" (password, source, multihop, port, name)`,
            );
        }
        neighbors.push(neighbor);
        neighborLines.push(n);
        break;
      }
    }
  });
  if (config.routerId === undefined) throw new BirdConfigError(`${file}`, 'no router-id');
  if (config.localAs === undefined) throw new BirdConfigError(`${file}`, 'no local-as');
  for (const v of options.vips ?? []) if (!vips.includes(v)) vips.push(v);
  const result = config as DirectorBirdConfig;
  // Everything else the writer refuses, said at the line that caused it.
  try {
    writeDirectorConfig(result);
  } catch (e) {
    if (!(e instanceof BirdConfigError)) throw e;
    throw new BirdConfigError(lineOf(e.where), `${e.where}: ${e.reason}`);
  }
  return result;

  function lineOf(where: string): string {
    const nb = /^neighbors\[(\d+)\]/.exec(where);
    if (nb) return at(neighborLines[Number(nb[1])] ?? 0, 1);
    const vip = /^vips\[(\d+)\]/.exec(where);
    if (vip) {
      const line = vipLines[Number(vip[1])];
      return line === undefined ? `${file} (a VIP given by the caller)` : at(line, 1);
    }
    const directive: Record<string, Directive> = {
      routerId: 'router-id',
      localAs: 'local-as',
      holdTime: 'hold-time',
      keepaliveTime: 'keepalive-time',
      connectDelayTime: 'connect-delay',
      connectRetryTime: 'connect-retry',
      log: 'log',
    };
    const key = where.startsWith('bfd')
      ? 'bfd'
      : where.startsWith('errorWaitTime')
        ? 'error-wait'
        : directive[where.split('.')[0] ?? ''];
    const line = key === undefined ? undefined : seen.get(key);
    return line === undefined ? file : at(line, 1);
  }
}
