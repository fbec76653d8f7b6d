// Writes an LdirectordConfig back to ldirectord.cf text. Directives come out
// in their source order (programmatic additions after them), comments kept,
// virtual sections indented with a tab and never broken by a blank line.
import { ConfigError } from './errors.js';
import {
  formatLdValue,
  isExactLdDirective,
  type LdirectordConfig,
  type LdNode,
  type LdReal,
  type LdSetting,
  type LdVirtual,
  ldGlobalHash,
} from './ldirectord.js';

export interface WriteLdirectordOptions {
  /** Text between a name and its value; default ' = '. */
  equals?: string;
  /** Indentation of virtual section lines; default a tab. */
  indent?: string;
}

interface Item {
  line: number;
  order: number;
  emit(out: string[]): void;
}

function unwritable(what: string, why: string): never {
  throw new ConfigError({
    code: 'BAD_VALUE',
    file: '<writer>',
    line: 0,
    column: 0,
    message: `cannot write ${what}: ${why}`,
  });
}

function checkText(what: string, text: string, inVirtual: boolean): void {
  if (/[\r\n]/.test(text)) unwritable(what, 'it contains a line break');
  // ldirectord cuts virtual lines at '#' and turns tabs into spaces.
  if (inVirtual && text.includes('#')) unwritable(what, 'ldirectord cuts virtual section lines at "#"');
  if (inVirtual && text.includes('\t'))
    unwritable(what, 'ldirectord turns tabs in virtual section lines into spaces');
}

function sorted(items: Item[]): Item[] {
  return items.sort((a, b) => a.line - b.line || a.order - b.order);
}

/** A kept comment or blank line, checked so that it stays one. */
function commentLine(text: string, out: string[]): void {
  if (text.trim() !== '' && !/^\s*#/.test(text))
    unwritable('a comment', `${JSON.stringify(text)} is not a comment line`);
  checkText('a comment', text, false);
  out.push(text);
}

function beforeLines(node: LdNode, out: string[], inVirtual: boolean): void {
  for (const b of node.before ?? []) {
    // A blank line would end the virtual section; comment lines are fine anywhere.
    if (inVirtual && b.trim() === '') continue;
    commentLine(b, out);
  }
}

function directiveLine(
  prefix: string,
  name: string,
  value: string,
  node: LdNode,
  out: string[],
  inVirtual: boolean,
  eq: string,
): void {
  beforeLines(node, out, inVirtual);
  checkText(name, value, inVirtual);
  let line = `${prefix}${name}${eq}${value}`;
  if (node.comment !== undefined) {
    checkText('a comment', node.comment, false);
    if (inVirtual) {
      // ldirectord cuts virtual lines at '#'. Where it compares the whole rest
      // of the line (yes/no, emailalert) a blank before the '#' would join the
      // value, so the comment follows it directly.
      line += isExactLdDirective(name) ? `#${node.comment}` : ` #${node.comment}`;
    } else {
      // Global lines are not cut: where a trailing comment would change the
      // value as ldirectord reads it, the comment goes on the line above.
      const mode = ldGlobalHash(name);
      const inline =
        mode === 'strip' || (mode === 'quoted' && /^".*"$/s.test(value) && !node.comment.includes('"'));
      if (inline) line += ` #${node.comment}`;
      else out.push(`${prefix}#${node.comment}`);
    }
  }
  out.push(line);
}

function realValue(r: LdReal): string {
  let s = r.host;
  if (r.rangeEnd !== undefined) s += `->${r.rangeEnd}`;
  if (r.port !== undefined) s += `:${r.port}`;
  s += ` ${r.forward}`;
  if (r.weight !== undefined) s += ` ${r.weight}`;
  if (r.request !== undefined || r.receive !== undefined) s += ` "${r.request ?? '/'}", "${r.receive ?? ''}"`;
  if (r.lowerThreshold !== undefined) s += ` l:${r.lowerThreshold}`;
  if (r.upperThreshold !== undefined) s += ` u:${r.upperThreshold}`;
  return s;
}

function virtualValue(v: LdVirtual): string {
  return v.address.kind === 'fwmark' ? String(v.address.mark) : `${v.address.host}:${v.address.port}`;
}

function virtualItems(v: LdVirtual, indent: string, eq: string): Item[] {
  const items: Item[] = [];
  let order = 0;
  for (const r of v.reals) {
    items.push({
      line: r.line ?? Number.MAX_SAFE_INTEGER,
      order: order++,
      emit: (out) => directiveLine(indent, r.ipv6 ? 'real6' : 'real', realValue(r), r, out, true, eq),
    });
  }
  for (const [name, setting] of Object.entries(v.settings) as [string, LdSetting<unknown>][]) {
    if (!setting) continue;
    const written = name === 'fallback' && v.ipv6 ? 'fallback6' : name;
    items.push({
      line: setting.line ?? Number.MAX_SAFE_INTEGER,
      order: order++,
      emit: (out) =>
        directiveLine(indent, written, formatLdValue(name, setting.value), setting, out, true, eq),
    });
  }
  return sorted(items);
}

export function writeLdirectordCf(config: LdirectordConfig, options: WriteLdirectordOptions = {}): string {
  const eq = options.equals ?? ' = ';
  const indent = options.indent ?? '\t';
  if (!/^(\t| {4,})[\t ]*$/.test(indent))
    unwritable('the indentation', 'it must be a tab or at least 4 spaces');
  const items: Item[] = [];
  let order = 0;
  const MAX = Number.MAX_SAFE_INTEGER;
  for (const [name, setting] of Object.entries(config.settings) as [string, LdSetting<unknown>][]) {
    if (!setting) continue;
    // Settings added in code (no line) go before the first virtual, where globals belong.
    items.push({
      line: setting.line ?? -1,
      order: order++,
      emit: (out) => directiveLine('', name, formatLdValue(name, setting.value), setting, out, false, eq),
    });
  }
  for (const e of config.execute)
    items.push({
      line: e.line ?? -1,
      order: order++,
      emit: (out) => directiveLine('', 'execute', e.value, e, out, false, eq),
    });
  for (const v of config.virtuals)
    items.push({
      line: v.line ?? MAX,
      order: order++,
      emit: (out) => {
        beforeLines(v, out, false);
        // A virtual written in code after other lines gets a blank line to separate it.
        if (v.before === undefined && v.line === undefined && out.length > 0) out.push('');
        let head = `${v.ipv6 ? 'virtual6' : 'virtual'}${eq}${virtualValue(v)}`;
        if (v.comment !== undefined) {
          checkText('a comment', v.comment, false);
          head += ` #${v.comment}`;
        }
        out.push(head);
        for (const it of virtualItems(v, indent, eq)) it.emit(out);
      },
    });
  const out: string[] = [];
  for (const it of sorted(items)) it.emit(out);
  for (const t of config.trailer) commentLine(t, out);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}
