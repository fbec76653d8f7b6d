// Each bad-input fixture holds deliberate mistakes; every one must be reported
// at its line, with the right code, and nothing else may be reported as an error.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLdirectordCf } from '../src/index.js';

const dir = join(import.meta.dirname, 'fixtures', 'ldirectord', 'bad');

type Expect = [line: number, code: string, hint?: RegExp];
const cases: Record<string, Expect[]> = {
  'blank-line-in-virtual.cf': [
    [8, 'SYNTAX', /blank line at line 7 ended the virtual section of line 4/],
    [9, 'SYNTAX'],
  ],
  'typos.cf': [
    [1, 'UNKNOWN_DIRECTIVE', /checktimeout/],
    [6, 'BAD_VALUE', /did you mean gate/],
    [8, 'UNKNOWN_DIRECTIVE', /scheduler/],
    [9, 'BAD_VALUE', /negotiate/],
    [10, 'BAD_VALUE', /http\?/],
  ],
  'wrong-section.cf': [
    [2, 'WRONG_SECTION'],
    [6, 'WRONG_SECTION', /top of the file/],
    [7, 'WRONG_SECTION'],
    [8, 'WRONG_SECTION', /use real instead/],
  ],
  'bad-values.cf': [
    [1, 'OUT_OF_RANGE'],
    [2, 'BAD_VALUE'],
    [3, 'BAD_VALUE', /own line/],
    [4, 'BAD_VALUE'],
    [6, 'OUT_OF_RANGE'],
    [10, 'OUT_OF_RANGE'],
    [12, 'OUT_OF_RANGE'],
    [13, 'BAD_VALUE'],
    [14, 'BAD_VALUE'],
    [15, 'OUT_OF_RANGE'],
    [16, 'BAD_VALUE'],
    [17, 'BAD_VALUE', /request = "\/index.html"/],
    [18, 'BAD_VALUE', /blanks/],
  ],
  'duplicates.cf': [
    [5, 'DUPLICATE', /first at line 4/],
    [6, 'DUPLICATE'],
    [8, 'DUPLICATE', /first defined at line 3/],
  ],
  'addresses.cf': [
    [3, 'MISSING_VALUE', /firewall mark/],
    [6, 'BAD_VALUE'],
    [9, 'BAD_VALUE', /virtual6/],
    [13, 'BAD_VALUE'],
    [14, 'MISSING_VALUE'],
    [17, 'BAD_VALUE'],
    [18, 'BAD_VALUE', /bare as l:N u:N/],
    [19, 'BAD_VALUE', /l:N before u:N/],
    [20, 'BAD_VALUE'],
  ],
  'deprecated-indent.cf': [
    [1, 'DEPRECATED'],
    [2, 'DEPRECATED', /negotiatetimeout/],
    [6, 'SYNTAX', /tab or at least 4 spaces/],
    [7, 'SYNTAX', /ended at line 6/],
    [8, 'SYNTAX'],
  ],
};

describe('ldirectord.cf bad-input fixtures', () => {
  for (const [file, expected] of Object.entries(cases)) {
    it(`${file}: each mistake at its line`, () => {
      const r = parseLdirectordCf(readFileSync(join(dir, file), 'utf8'), { file });
      const errors = r.problems.filter((p) => p.severity === 'error');
      expect(errors.map((e) => [e.line, e.code])).toEqual(expected.map(([l, c]) => [l, c]));
      for (const [i, [, , hint]] of expected.entries()) if (hint) expect(errors[i]?.hint).toMatch(hint);
      for (const e of errors) {
        expect(e.file).toBe(file);
        expect(e.column).toBeGreaterThanOrEqual(1);
        expect(e.message.startsWith(`${file}:${e.line}:${e.column}: `)).toBe(true);
      }
    });
  }

  it('columns point at the offending part', () => {
    const r = parseLdirectordCf(readFileSync(join(dir, 'typos.cf'), 'utf8'));
    const gaet = r.problems.find((p) => p.line === 6);
    // `\treal = 198.51.100.1:80 gaet 5`: gaet starts at column 25.
    expect(gaet?.column).toBe(25);
    const sheduler = r.problems.find((p) => p.line === 8);
    expect(sheduler?.column).toBe(2);
  });
});
