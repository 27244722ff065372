import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../errors.ts';
import {
  accountName,
  accountNumber,
  isValidAccountName,
  methodName,
  methodNumber,
  seahash,
} from './names.ts';

type Pairs = [string, string][];
const vectors = JSON.parse(readFileSync(join(process.cwd(), 'test/vectors/psibase/names.json'), 'utf8')) as {
  accounts: Pairs;
  accounts_parse_only: Pairs;
  methods: Pairs;
  methods_parse_only: Pairs;
};

const U64 = (1n << 64n) - 1n;
/** Rank of zzzzzzzzzz shifted into place: the largest primary account number. */
const MAX_ACCOUNT = accountNumber('zzzzzzzzzz');

const accountChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789');
/** Canonical base names: 1..10 chars, '-' only between regular chars. */
const validBase = fc
  .array(fc.tuple(fc.boolean(), accountChar), { minLength: 1, maxLength: 10 })
  .map((parts) => parts.map(([dash, ch], i) => (dash && i > 0 ? '-' : '') + ch).join(''))
  .filter((s) => s.length <= 10);
const validAccount = fc
  .tuple(validBase, fc.integer({ min: 0, max: 255 }))
  .map(([b, sub]) => (sub === 0 ? b : `${b}+${sub}`));

describe('account numbers: psibase conformance vectors', () => {
  it.each(vectors.accounts)('%j ⇄ %s', (name, num) => {
    expect(accountNumber(name)).toBe(BigInt(num));
    expect(accountName(BigInt(num))).toBe(name);
  });
  it.each(vectors.accounts_parse_only)('%j → %s', (name, num) => {
    expect(accountNumber(name)).toBe(BigInt(num));
  });
  it('matches psibase tests beyond the shared vectors', () => {
    expect(accountNumber('brucewayne')).toBe(389958816282596608n);
    expect(accountName(389958816282596608n)).toBe('brucewayne');
  });
});

describe('account numbers: properties', () => {
  it('round-trips every canonical name', () => {
    fc.assert(
      fc.property(validAccount, (s) => {
        expect(accountName(accountNumber(s))).toBe(s);
        expect(isValidAccountName(s)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('round-trips every number up to zzzzzzzzzz+255', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_ACCOUNT | 0xffn }), (n) => {
        expect(accountNumber(accountName(n))).toBe(n);
      }),
      { numRuns: 3000 },
    );
  });

  it('orders numbers like names (spec: numeric order is string order)', () => {
    fc.assert(
      fc.property(validBase, validBase, (a, b) => {
        const cmp = a < b ? -1 : a > b ? 1 : 0;
        const na = accountNumber(a);
        const nb = accountNumber(b);
        expect(na < nb ? -1 : na > nb ? 1 : 0).toBe(cmp);
      }),
      { numRuns: 2000 },
    );
  });

  it('maps consecutive names to consecutive ranks (no gaps)', () => {
    expect(accountNumber('a') >> 8n).toBe((accountNumber('9zzzzzzzzz') >> 8n) + 1n);
    expect(accountNumber('a-0') >> 8n).toBe((accountNumber('a') >> 8n) + 1n);
    expect(accountNumber('a0') >> 8n).toBe((accountNumber('a-zzzzzzzz') >> 8n) + 1n);
    expect(accountNumber('0')).toBe(1n << 8n);
  });

  it('folds upper case like psibase, but only lower case is canonical', () => {
    expect(accountNumber('SpiderMan')).toBe(accountNumber('spiderman'));
    expect(isValidAccountName('SpiderMan')).toBe(false);
    expect(isValidAccountName('a+0')).toBe(false);
    expect(isValidAccountName('a+042')).toBe(false);
    expect(accountNumber('a+042')).toBe(accountNumber('a+42'));
  });
});

describe('account numbers: rejection', () => {
  const bad = [
    '-a', 'a-', 'a--b', 'abcdefghijk', 'a_b', 'a.b', 'a b', 'é', 'a+', 'a+256', 'a+-1', 'a+1+2', 'a+x',
    '-', '?', 'what?', 'abcdefghijklmnopqrstuvwxyz',
  ];
  it.each(bad)('rejects name %j', (s) => {
    expect(() => accountNumber(s)).toThrow(DecodeError);
    expect(isValidAccountName(s)).toBe(false);
  });
  it('rejects numbers above zzzzzzzzzz+255 and outside u64', () => {
    expect(accountName(MAX_ACCOUNT | 0xffn)).toBe('zzzzzzzzzz+255');
    expect(() => accountName((MAX_ACCOUNT | 0xffn) + 1n)).toThrow(DecodeError);
    expect(() => accountName(U64)).toThrow(DecodeError);
    expect(() => accountName(-1n)).toThrow(DecodeError);
    expect(() => accountName(U64 + 1n)).toThrow(DecodeError);
  });
  it('rejects non-bigint and non-string input with DecodeError', () => {
    expect(() => accountName(5 as unknown as bigint)).toThrow(DecodeError);
    expect(() => accountNumber(5 as unknown as string)).toThrow(DecodeError);
    expect(() => methodName('a' as unknown as bigint)).toThrow(DecodeError);
    expect(() => methodNumber(null as unknown as string)).toThrow(DecodeError);
    expect(isValidAccountName(42)).toBe(false);
  });
});

describe('method numbers: psibase conformance vectors', () => {
  it.each(vectors.methods)('%j ⇄ %s', (name, num) => {
    expect(methodNumber(name)).toBe(BigInt(num));
    expect(methodName(BigInt(num))).toBe(name);
  });
  it.each(vectors.methods_parse_only)('%j → %s', (name, num) => {
    expect(methodNumber(name)).toBe(BigInt(num));
  });
  it('matches psibase tests beyond the shared vectors', () => {
    expect(methodNumber('abc123')).toBe(691485674271n);
    expect(methodNumber('brucewayne')).toBe(56488722015273161n);
    expect(methodName(56488722015273161n)).toBe('brucewayne');
  });
  it('implements SeaHash (reference value of the seahash crate for "to be or not to be")', () => {
    expect(seahash(new TextEncoder().encode('to be or not to be'))).toBe(1988685042348123509n);
  });
});

describe('method numbers: properties', () => {
  const lower = fc.stringMatching(/^[a-z]{1,24}$/);
  it('round-trips: name → number → name → same number, or refuses the number', () => {
    // Names with a zero-probability letter pair ("bx", "sx", "cj" …) still get psibase's
    // number, but it decodes to other letters; methodName refuses it.
    fc.assert(
      fc.property(lower, (s) => {
        const n = methodNumber(s);
        let back: string;
        try {
          back = methodName(n);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          return;
        }
        // Not always `s`: a zero-width pair makes distinct names collide ("hxq", "hzqun").
        expect(methodNumber(back)).toBe(n);
      }),
      { numRuns: 5000 },
    );
  });
  it('names with only likely letter pairs print back as themselves', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[etaoinsrl]{1,9}$/), (s) => {
        const n = methodNumber(s);
        // A compressed code that happens to set the hash flag (bit 56) prints in the
        // '#' form, which still parses back to the same number.
        if ((n & (1n << 56n)) === 0n) expect(methodName(n)).toBe(s);
        else expect(methodNumber(methodName(n))).toBe(n);
      }),
      { numRuns: 3000, examples: [['snaaoaoaa']] },
    );
  });
  it('hashes names whose code needs more than 64 bits (psibase Rust rule)', () => {
    // C++ would keep a truncated code for these, which decodes to another name.
    for (const s of ['yyyjyyzz', 'zuzzykyz']) {
      const n = methodNumber(s);
      expect(n & (1n << 56n)).toBe(1n << 56n);
      expect(methodNumber(methodName(n))).toBe(n);
    }
  });
  it('refuses to print the number of a name with a zero-probability pair', () => {
    const n = methodNumber('bxa');
    expect(n & (1n << 56n)).toBe(0n);
    expect(() => methodName(n)).toThrow(DecodeError);
  });
  it('hashed names round-trip through the # form', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: U64 }), (r) => {
        const n = r | (1n << 56n);
        const s = methodName(n);
        expect(s).toMatch(/^#[eaiotnrslcuhdpmy]{16}$/);
        expect(methodNumber(s)).toBe(n);
      }),
      { numRuns: 2000 },
    );
  });
  it('folds case for compressible names and hashes the name as written otherwise', () => {
    expect(methodNumber('Spiderman')).toBe(methodNumber('spiderman'));
    expect(methodNumber('NATASHAROMANOFF')).not.toBe(methodNumber('natasharomanoff'));
  });
});

describe('method numbers: rejection', () => {
  it.each(['?', 'a?', 'eaorintsl?', 'a-b', 'a b', 'é', 'a.b'])('rejects name %j', (s) => {
    expect(() => methodNumber(s)).toThrow(DecodeError);
  });
  it.each(['#', '#psaoryoiluhlrpy', '#psaoryoiluhlrpynn', '#psaoryoiluhlrpyz', '#eeeeeeeeeeeeeeee'])(
    'rejects hashed form %j',
    (s) => {
      expect(() => methodNumber(s)).toThrow(DecodeError);
    },
  );
  it('rejects numbers outside u64', () => {
    expect(() => methodName(-1n)).toThrow(DecodeError);
    expect(() => methodName(U64 + 1n)).toThrow(DecodeError);
  });
  it('rejects numbers that are not the compressed form of any name', () => {
    // Non-hashed numbers either round-trip or are refused; never a wrong name.
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: (1n << 56n) - 1n }), (n) => {
        let s: string;
        try {
          s = methodName(n);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          return;
        }
        expect(methodNumber(s)).toBe(n);
      }),
      { numRuns: 3000 },
    );
    expect(() => methodName(2n)).toThrow(DecodeError);
    expect(() => methodName((1n << 56n) - 1n)).toThrow(DecodeError);
  });
});
