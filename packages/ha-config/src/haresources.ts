// haresources: one resource group per line, `NODE RESOURCE...`, the node being
// the group's preferred holder. A bare IPv4 address (`12.3.4.50/32/eth0`)
// is shorthand for IPaddr; `Agent::arg1::arg2` passes arguments; a line
// ending in `\` continues on the next.
import { type ConfigError, fileProblem, type ParseResult } from './errors.js';
import { isInterfaceName } from './hacf.js';
import { isIPv4, splitLines, tokenizeLine } from './source.js';

/** An IP address resource: IPaddr's `address[/prefix[/interface[/broadcast]]]`. */
export interface HaIpAddress {
  kind: 'ipaddr';
  /** `IPaddr` for the bare shorthand, or the agent named (`IPaddr`, `IPaddr2`). */
  agent: string;
  /** True when written as the bare address shorthand. */
  shorthand: boolean;
  address: string;
  prefix?: number;
  interface?: string;
  broadcast?: string;
  /** The spec as written (after `Agent::`), for the writer. */
  spec: string;
  /** Further `::` arguments after the address spec. */
  extra: string[];
  line?: number;
  column?: number;
}

/** Any other resource: a script in resource.d or init.d, with `::` arguments. */
export interface HaScriptResource {
  kind: 'script';
  name: string;
  args: string[];
  line?: number;
  column?: number;
}

export type HaResource = HaIpAddress | HaScriptResource;

export interface HaResourceGroup {
  node: string;
  resources: HaResource[];
  line?: number;
  column?: number;
  before?: string[];
  comment?: string;
}

export interface Haresources {
  groups: HaResourceGroup[];
  trailer: string[];
}

// IPsrcaddr takes an address too, but it sets the source address; it is not a VIP.
const IP_AGENTS = new Set(['IPaddr', 'IPaddr2']);

/** Parses one IPaddr spec (`12.3.4.50/32/eth0[/bcast]`); undefined when it is not an IPv4 spec. */
export function parseIpaddrSpec(
  spec: string,
): Omit<HaIpAddress, 'kind' | 'agent' | 'shorthand' | 'extra' | 'spec'> | string {
  const [address, prefix, iface, broadcast, ...rest] = spec.split('/');
  if (!address || !isIPv4(address)) return `'${address ?? spec}' is not an IPv4 address`;
  const out: Omit<HaIpAddress, 'kind' | 'agent' | 'shorthand' | 'extra' | 'spec'> = { address };
  if (prefix !== undefined && prefix !== '') {
    if (isIPv4(prefix)) {
      // IPaddr also accepts a dotted netmask; turn it into a prefix.
      const bits = prefix.split('.').reduce((n, o) => n * 256 + Number(o), 0);
      const len = 32 - Math.log2(2 ** 32 - bits);
      if (!Number.isInteger(len)) return `'${prefix}' is not a contiguous netmask`;
      out.prefix = len;
    } else if (!/^\d+$/.test(prefix) || Number(prefix) > 32)
      return `'${prefix}' is not a prefix length (0-32)`;
    else out.prefix = Number(prefix);
  }
  if (iface !== undefined && iface !== '') {
    if (!isInterfaceName(iface.split(':')[0] ?? '')) return `'${iface}' is not an interface name`;
    out.interface = iface;
  }
  if (broadcast !== undefined && broadcast !== '') {
    if (!isIPv4(broadcast)) return `'${broadcast}' is not a broadcast address`;
    out.broadcast = broadcast;
  }
  if (rest.length) return `too many '/' parts in '${spec}'`;
  return out;
}

export function parseHaresources(text: string, options: { file?: string } = {}): ParseResult<Haresources> {
  const file = options.file ?? 'haresources';
  const problems: ConfigError[] = [];
  const groups: HaResourceGroup[] = [];
  let pending: string[] = [];
  // Words of a logical line (continuations joined) with their physical positions.
  let words: { text: string; line: number; column: number }[] = [];
  let comment: string | undefined;
  let startLine = 0;

  const finish = () => {
    if (words.length === 0) return;
    const [nodeWord, ...rest] = words;
    const group: HaResourceGroup = {
      node: nodeWord!.text,
      resources: [],
      line: nodeWord!.line,
      column: nodeWord!.column,
    };
    if (pending.length) group.before = pending;
    if (comment !== undefined) group.comment = comment;
    pending = [];
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(group.node))
      problems.push(
        fileProblem({
          code: 'BAD_VALUE',
          file,
          line: nodeWord!.line,
          column: nodeWord!.column,
          message: `'${group.node}' is not a node name`,
          hint: 'the first word is the preferred node, as uname -n prints it',
        }),
      );
    if (rest.length === 0)
      problems.push(
        fileProblem({
          code: 'MISSING_VALUE',
          file,
          line: nodeWord!.line,
          column: nodeWord!.column,
          message: `node '${group.node}' has no resources`,
          hint: "e.g. 'load1 12.3.4.50/32/eth0 ldirectord'",
        }),
      );
    for (const w of rest) {
      const r = parseResource(w.text);
      if (typeof r === 'string') {
        problems.push(
          fileProblem({
            code: 'BAD_VALUE',
            file,
            line: w.line,
            column: w.column,
            message: r,
            hint: 'ADDRESS[/PREFIX[/IFACE[/BROADCAST]]], or AGENT[::ARG...]',
          }),
        );
        continue;
      }
      r.line = w.line;
      r.column = w.column;
      group.resources.push(r);
    }
    groups.push(group);
    words = [];
    comment = undefined;
  };

  let continuing = false;
  for (const { line, text: lineText } of text === '' ? [] : splitLines(text)) {
    const { tokens, comment: c } = tokenizeLine(lineText);
    if (!continuing && tokens.length === 0) {
      pending.push(lineText);
      continue;
    }
    if (!continuing) startLine = line;
    const last = tokens.at(-1);
    continuing = false;
    for (const t of tokens) words.push({ text: t.text, line, column: t.column });
    if (last && c === undefined && last.text.endsWith('\\')) {
      const w = words.at(-1)!;
      w.text = w.text.slice(0, -1);
      if (w.text === '') words.pop();
      continuing = true;
    }
    if (c !== undefined) comment = comment === undefined ? c : `${comment} ${c}`;
    if (!continuing) finish();
  }
  if (continuing) {
    problems.push(
      fileProblem({
        code: 'SYNTAX',
        file,
        line: startLine,
        column: 1,
        message: 'the last line ends with \\ but nothing follows',
        hint: 'remove the trailing backslash',
      }),
    );
    finish();
  }
  const seen = new Map<string, number>();
  for (const g of groups)
    for (const r of g.resources) {
      const key = r.kind === 'ipaddr' ? `ip:${r.address}` : `script:${r.name}:${r.args.join('::')}`;
      const first = seen.get(key);
      if (first !== undefined)
        problems.push(
          fileProblem({
            code: 'DUPLICATE',
            file,
            line: r.line ?? 1,
            column: r.column ?? 1,
            message: `${r.kind === 'ipaddr' ? `address ${r.address}` : `resource ${r.name}`} already belongs to a group at line ${first}`,
            hint: 'a resource can be in one group only',
          }),
        );
      else seen.set(key, r.line ?? 0);
    }
  return { value: { groups, trailer: pending }, problems };
}

function parseResource(word: string): HaResource | string {
  const parts = word.split('::');
  const head = parts[0] ?? '';
  if (/^\d+\.\d+\.\d+\.\d+(\/|$)/.test(head)) {
    if (parts.length > 1) return `'${word}': an address shorthand takes no '::' arguments`;
    const ip = parseIpaddrSpec(head);
    return typeof ip === 'string'
      ? ip
      : { kind: 'ipaddr', agent: 'IPaddr', shorthand: true, spec: head, extra: [], ...ip };
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/.test(head)) return `'${head}' is not a resource name`;
  if (IP_AGENTS.has(head) && parts.length > 1) {
    const ip = parseIpaddrSpec(parts[1] ?? '');
    if (typeof ip === 'string') return `${head}: ${ip}`;
    return { kind: 'ipaddr', agent: head, shorthand: false, spec: parts[1]!, extra: parts.slice(2), ...ip };
  }
  return { kind: 'script', name: head, args: parts.slice(1) };
}

function resourceText(r: HaResource): string {
  if (r.kind === 'script') return [r.name, ...r.args].join('::');
  return r.shorthand ? r.spec : [r.agent, r.spec, ...r.extra].join('::');
}

export function writeHaresources(h: Haresources): string {
  const out: string[] = [];
  for (const g of h.groups) {
    if (g.before) out.push(...g.before);
    const body = [g.node, ...g.resources.map(resourceText)].join(' ');
    out.push(g.comment !== undefined ? `${body}\t#${g.comment}` : body);
  }
  out.push(...h.trailer);
  return out.length ? `${out.join('\n')}\n` : '';
}
