/**
 * psibase account and method names: u64 ⇄ string.
 *
 * Accounts (spec: doc/src/specifications/data-formats/account-numbers.md) use a gap-free
 * ranking of the valid names in the high 56 bits, so numeric order is name order, and a
 * subaccount index in the low 8 bits (`name+N`). Methods (psibase MethodNumber.hpp,
 * psio compress_name.hpp) use an adaptive arithmetic coder over 27 symbols; names
 * that do not fit in 64 bits become a seahash with bit 56 set, printed as `#` plus 16
 * letters. The numbers are psibase's (C++ AccountNumber/MethodNumber and Rust
 * psibase_names agree on them, except at one method-coder edge noted at
 * compressMethod); where psibase silently returns 0 or a garbage string for bad input,
 * we throw DecodeError instead.
 */
import { DecodeError } from '../errors.ts';

const U64_MAX = (1n << 64n) - 1n;

function checkU64(n: unknown, what: string): bigint {
  if (typeof n !== 'bigint') throw new DecodeError(`${what} must be a bigint`, { details: { value: String(n) } });
  if (n < 0n || n > U64_MAX) throw new DecodeError(`${what} out of u64 range`, { details: { value: n.toString() } });
  return n;
}

function checkString(s: unknown, what: string): string {
  if (typeof s !== 'string') throw new DecodeError(`${what} must be a string`, { details: { value: String(s) } });
  return s;
}

/**
 * Small memo for the hot path: the same few dozen names (services, methods, the
 * accounts of a busy block) are converted over and over. Cleared wholesale when full,
 * which is cheaper than LRU bookkeeping and bounds memory.
 */
class Memo<K, V> {
  readonly #map = new Map<K, V>();
  constructor(readonly limit: number) {}
  get(k: K): V | undefined {
    return this.#map.get(k);
  }
  set(k: K, v: V): V {
    if (this.#map.size >= this.limit) this.#map.clear();
    this.#map.set(k, v);
    return v;
  }
}
const MEMO_LIMIT = 8192;

// ---------------------------------------------------------------------------------
// Account numbers
// ---------------------------------------------------------------------------------

/** Names are at most 10 characters (spec: "Name length is between 0 and 10"). */
const ACCOUNT_MAX_LEN = 10;
/** Alphabet in rank order; '-' is the separator and ranks lowest (index 0). */
const ACCOUNT_CHARS = '-0123456789abcdefghijklmnopqrstuvwxyz';
const ACCOUNT_REGULAR = 36;
const SUBACCOUNT_SEPARATOR = '+';

/**
 * tail[i] = number of suffixes of length ≤ i: `withSep` may start with '-', `withoutSep`
 * counts those starting with a regular char that are followed by something (psibase
 * NameEncoder's recurrence). All values stay below 37^10 < 2^53, so plain numbers
 * are exact and much faster than bigint.
 */
const tailWithSep = new Array<number>(ACCOUNT_MAX_LEN);
const tailWithoutSep = new Array<number>(ACCOUNT_MAX_LEN);
tailWithSep[0] = 1;
tailWithoutSep[0] = 0;
for (let i = 1; i < ACCOUNT_MAX_LEN; i++) {
  tailWithoutSep[i] = ACCOUNT_REGULAR * tailWithSep[i - 1]!;
  tailWithSep[i] = tailWithoutSep[i - 1]! + tailWithoutSep[i]! + 1;
}
/** Rank of `zzzzzzzzzz`; larger base values are not account numbers (spec). */
const ACCOUNT_BASE_MAX = ACCOUNT_REGULAR * tailWithSep[ACCOUNT_MAX_LEN - 1]!;

/** char code → rank index, -1 if not allowed. Upper case folds to lower, as psibase does. */
const accountIndex = new Int8Array(128).fill(-1);
for (let i = 0; i < ACCOUNT_CHARS.length; i++) {
  const ch = ACCOUNT_CHARS.charCodeAt(i);
  accountIndex[ch] = i;
  if (ch >= 0x61 && ch <= 0x7a) accountIndex[ch - 0x20] = i;
}

/** Rank of a base name among all valid names, or -1 if it breaks the spec's rules. */
function encodeAccountBase(s: string, end: number): number {
  let result = 0;
  let maxlen = ACCOUNT_MAX_LEN;
  // Spec: a name may not begin with '-'; nor end with one; nor contain "--".
  let allowsSep = false;
  let allowsEnd = true;
  for (let i = 0; i < end; i++) {
    const code = s.charCodeAt(i);
    const idx = code < 128 ? accountIndex[code]! : -1;
    if (maxlen === 0 || idx < 0 || (idx === 0 && !allowsSep)) return -1;
    // Every proper prefix is itself a name that sorts first.
    if (allowsEnd) result += 1;
    const tail = tailWithSep[maxlen - 1]!;
    if (idx > 0) {
      result += (idx - 1) * tail;
      if (allowsSep) result += tailWithoutSep[maxlen - 1]!;
    }
    allowsEnd = allowsSep = idx !== 0;
    --maxlen;
  }
  return allowsEnd ? result : -1;
}

function decodeAccountBase(value: number): string {
  let out = '';
  let maxlen = ACCOUNT_MAX_LEN;
  let allowsSep = false;
  let allowsEnd = true;
  while (value !== 0 || !allowsEnd) {
    if (allowsEnd) value -= 1;
    const tail = tailWithSep[maxlen - 1]!;
    let idx = 0;
    if (allowsSep) {
      // Names with '-' here sort first; skip past them unless value lands inside.
      const tailSep = tailWithoutSep[maxlen - 1]!;
      if (value >= tailSep) {
        value -= tailSep;
        idx = 1;
      }
    } else {
      idx = 1;
    }
    idx += Math.floor(value / tail);
    value %= tail;
    out += ACCOUNT_CHARS[idx]!;
    allowsEnd = allowsSep = idx !== 0;
    --maxlen;
  }
  return out;
}

/** Parses the `+N` suffix (0..255, decimal); returns -1 when malformed. */
function parseSubaccount(s: string, from: number): number {
  if (from >= s.length) return -1;
  let sub = 0;
  for (let i = from; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    sub = sub * 10 + d;
    if (sub > 255) return -1;
  }
  return sub;
}

const accountNumbers = new Memo<string, bigint>(MEMO_LIMIT);
const accountNames = new Memo<bigint, string>(MEMO_LIMIT);

/**
 * Name → AccountNumber. Accepts what psibase accepts: upper case folds to lower case,
 * and `name+N` (N in 0..255, `+0` meaning the primary account) selects a subaccount.
 */
export function accountNumber(name: string): bigint {
  const cached = accountNumbers.get(name);
  if (cached !== undefined) return cached;
  checkString(name, 'account name');
  const plus = name.indexOf(SUBACCOUNT_SEPARATOR);
  const baseEnd = plus < 0 ? name.length : plus;
  let sub = 0;
  if (plus >= 0) {
    sub = parseSubaccount(name, plus + 1);
    if (sub < 0) throw new DecodeError(`invalid subaccount in account name "${name}"`, { details: { name } });
  }
  const base = encodeAccountBase(name, baseEnd);
  if (base < 0) throw new DecodeError(`invalid account name "${name}"`, { details: { name } });
  return accountNumbers.set(name, (BigInt(base) << 8n) | BigInt(sub));
}

/** AccountNumber → canonical name (lower case, `+N` only for subaccounts). */
export function accountName(n: bigint): string {
  const cached = accountNames.get(n);
  if (cached !== undefined) return cached;
  checkU64(n, 'account number');
  const base = Number(n >> 8n);
  if (base > ACCOUNT_BASE_MAX) {
    throw new DecodeError(`account number ${n} is above zzzzzzzzzz`, { details: { value: n.toString() } });
  }
  const sub = Number(n & 0xffn);
  const name = decodeAccountBase(base) + (sub === 0 ? '' : SUBACCOUNT_SEPARATOR + sub);
  return accountNames.set(n, name);
}

/**
 * True if `s` is an account name in canonical form: exactly the string accountName
 * prints (lower case, no `+0`, no leading zeros in the subaccount). accountNumber
 * also accepts the non-canonical spellings psibase tolerates.
 */
export function isValidAccountName(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  try {
    return accountName(accountNumber(s)) === s;
  } catch (e) {
    if (e instanceof DecodeError) return false;
    throw e;
  }
}

// ---------------------------------------------------------------------------------
// Method numbers
// ---------------------------------------------------------------------------------

/** Symbol 0 ends the name; the rest are letters by falling frequency (psio func_model). */
const METHOD_SYMBOLS = '\0eaiotnrslcuhdpmygbfwvkzxqj';
const MODEL_WIDTH = 27;

/**
 * char code → symbol, 0 if not allowed. psibase's table also maps the digits 0-9 to
 * symbols 1-10 (so "abc123" encodes like "abceai"), upper case to the lower-case
 * symbol, and '_' to the symbol of 'q'. Those quirks decide the numbers that psibase
 * computes, so we keep them.
 */
const methodSymbol = new Uint8Array(128);
for (let sym = 1; sym < MODEL_WIDTH; sym++) {
  const ch = METHOD_SYMBOLS.charCodeAt(sym);
  methodSymbol[ch] = sym;
  methodSymbol[ch - 0x20] = sym;
}
for (let d = 0; d < 10; d++) methodSymbol[0x30 + d] = d + 1;
methodSymbol[0x5f] = 25;

/**
 * Cumulative frequencies: row = previous symbol, column = symbol, last column = total.
 * This table is part of the protocol: it fixes every method number psibase computes.
 */
// prettier-ignore
const MODEL_ROWS: readonly (readonly number[])[] = [
  [0, 0, 1956, 4146, 6063, 7423, 9305, 10276, 11226, 13687, 14907, 16131, 17056, 18369, 19922, 21644, 23210, 24604, 25065, 26398, 28475, 30408, 31395, 31725, 32367, 32402, 32623, 32767],
  [0, 4880, 5243, 6669, 7714, 8472, 9634, 11619, 15233, 16738, 18031, 18650, 18993, 20913, 22653, 25217, 25802, 26404, 26589, 28244, 29312, 31398, 31845, 32080, 32183, 32478, 32695, 32767],
  [0, 1737, 2901, 3020, 3666, 3734, 8543, 12634, 15523, 17208, 21367, 22949, 23407, 24602, 25562, 26470, 28001, 28323, 29045, 30727, 31040, 31251, 32084, 32387, 32496, 32598, 32745, 32767],
  [0, 1420, 3454, 4922, 5132, 6751, 9959, 13993, 14547, 18653, 20482, 23055, 23598, 23956, 25067, 25566, 27966, 27973, 28483, 29334, 29844, 30620, 31685, 31882, 32375, 32425, 32757, 32767],
  [0, 4209, 5209, 5503, 5994, 6779, 9809, 13734, 16394, 17728, 20734, 21636, 23733, 24071, 24785, 26194, 28482, 28566, 29403, 30186, 30894, 31383, 32100, 32294, 32382, 32531, 32744, 32767],
  [0, 6157, 9213, 10380, 13294, 15931, 16600, 16829, 17987, 18142, 18574, 18667, 19055, 21787, 22406, 24449, 24772, 25604, 25663, 29173, 30781, 31791, 31995, 32219, 32350, 32610, 32748, 32767],
  [0, 4891, 8913, 10772, 13035, 15218, 19118, 19893, 20080, 21202, 22114, 23568, 23895, 24392, 26546, 26760, 27744, 28021, 30534, 31037, 31376, 31650, 32250, 32490, 32548, 32565, 32709, 32767],
  [0, 4689, 9532, 12839, 16144, 19335, 21427, 21880, 22583, 23728, 24811, 25404, 25957, 26777, 27443, 28035, 29213, 30179, 30481, 31447, 31666, 31782, 32303, 32484, 32510, 32511, 32751, 32767],
  [0, 5750, 9495, 10402, 12127, 13082, 19468, 19684, 19710, 21681, 23775, 24600, 25576, 26982, 27084, 27953, 30214, 30492, 30515, 30947, 31019, 31446, 31709, 31847, 31884, 31884, 32761, 32767],
  [0, 1827, 5418, 7243, 11598, 13806, 14484, 14972, 15432, 15532, 16785, 16863, 17441, 18465, 19298, 23066, 24626, 26449, 26523, 27067, 29601, 31460, 31683, 32257, 32266, 32312, 32318, 32767],
  [0, 3085, 6902, 11386, 13498, 18692, 21202, 21246, 22818, 22950, 23980, 24484, 25962, 30168, 30176, 30181, 30391, 31287, 31288, 31293, 31294, 31297, 31592, 32703, 32712, 32712, 32767, 32767],
  [0, 1460, 2488, 3382, 4190, 4382, 7997, 13589, 16710, 21209, 25118, 26178, 26204, 26432, 27181, 28387, 30216, 30257, 30864, 31867, 32177, 32219, 32374, 32455, 32551, 32617, 32754, 32767],
  [0, 3497, 9469, 11581, 13649, 15750, 19606, 19858, 20362, 20409, 23728, 23738, 24110, 26020, 26170, 26284, 28241, 29240, 29247, 29296, 29442, 29819, 30442, 30559, 30604, 30604, 32763, 32767],
  [0, 7725, 13656, 15552, 18212, 19436, 22322, 22566, 23251, 23443, 26247, 26267, 26704, 26809, 27460, 27622, 29567, 30839, 30969, 31225, 31379, 31448, 32114, 32127, 32143, 32143, 32739, 32767],
  [0, 3654, 6677, 7904, 9941, 12843, 16232, 16550, 19915, 20300, 22842, 22898, 23406, 25127, 25246, 25931, 27743, 28101, 28153, 28321, 29252, 31975, 32243, 32396, 32480, 32494, 32721, 32767],
  [0, 2259, 4242, 6358, 8676, 10453, 10663, 11361, 12343, 12503, 13022, 13049, 13568, 15061, 16673, 21204, 22114, 23775, 23801, 26743, 28089, 29382, 31518, 31992, 32482, 32634, 32711, 32767],
  [0, 8569, 10926, 11269, 11458, 12219, 15419, 15811, 16168, 19632, 21864, 22233, 22272, 23584, 23897, 24563, 27086, 27677, 27838, 30347, 30897, 31720, 32305, 32316, 32374, 32410, 32766, 32767],
  [0, 5421, 10228, 13261, 16435, 18453, 18538, 19596, 22477, 22749, 25180, 25189, 26615, 28325, 28370, 28391, 28704, 29610, 30232, 30341, 30376, 30446, 32750, 32760, 32764, 32764, 32765, 32767],
  [0, 3536, 8233, 9248, 10667, 11916, 16198, 16366, 17262, 17620, 22341, 22384, 23103, 23432, 24178, 24653, 27955, 28446, 28462, 29156, 29914, 30860, 31440, 31618, 31718, 31718, 32711, 32767],
  [0, 6957, 8777, 9282, 11114, 12083, 14679, 14746, 15172, 16789, 19423, 19431, 20076, 20456, 21353, 21603, 22831, 23934, 24047, 24077, 26986, 30996, 32258, 32271, 32421, 32421, 32764, 32767],
  [0, 4391, 7270, 8148, 9018, 9499, 14426, 14654, 14752, 18571, 23671, 23681, 23696, 24591, 24714, 24801, 27775, 27825, 27830, 30016, 30215, 30862, 31659, 31682, 31823, 31824, 32740, 32767],
  [0, 508, 5145, 6952, 9251, 10376, 10985, 11140, 11725, 11743, 12502, 12513, 12662, 15602, 17187, 22455, 22627, 23556, 23562, 26519, 30666, 32564, 32574, 32641, 32646, 32708, 32730, 32767],
  [0, 2561, 9484, 10526, 12712, 13144, 24077, 24752, 24913, 25311, 29557, 29584, 29814, 30171, 30199, 30250, 31654, 31986, 32003, 32134, 32255, 32412, 32625, 32686, 32687, 32687, 32751, 32767],
  [0, 1902, 10556, 12815, 13501, 14918, 18520, 18600, 18633, 21631, 26209, 26218, 26391, 26794, 26889, 27833, 30807, 31246, 31254, 31774, 32060, 32183, 32247, 32252, 32655, 32655, 32756, 32767],
  [0, 3478, 6497, 8308, 12600, 13818, 17038, 17122, 17152, 17528, 20748, 21906, 22255, 22599, 22677, 24481, 25735, 28777, 28815, 28891, 29073, 31075, 31424, 31433, 31485, 31485, 32764, 32767],
  [0, 17596, 18281, 18455, 19256, 19875, 20521, 20599, 20949, 21038, 21413, 21416, 23479, 24932, 25804, 26610, 28270, 29555, 29557, 30312, 31584, 32451, 32516, 32525, 32623, 32701, 32703, 32767],
  [0, 392, 8308, 10995, 11504, 13348, 22180, 22194, 22231, 22248, 23981, 23981, 26646, 26978, 27000, 27014, 30409, 30435, 30435, 30457, 30474, 30503, 30697, 30704, 30818, 30818, 31861, 32767],
];
const MODEL_COLS = MODEL_WIDTH + 1;
const MODEL = new Uint16Array(MODEL_WIDTH * MODEL_COLS);
MODEL_ROWS.forEach((row, r) => MODEL.set(row, r * MODEL_COLS));

// Coder parameters for 32-bit code values (psio func_model): 17-bit codes.
const CODE_BITS = 17;
const MAX_CODE = (1 << CODE_BITS) - 1;
const ONE_FOURTH = 1 << (CODE_BITS - 2);
const ONE_HALF = 2 * ONE_FOURTH;
const THREE_FOURTHS = 3 * ONE_FOURTH;

/** Bit 56 marks a hashed method number (MethodNumber.hpp says "bit 48"; the code uses 56). */
const HASH_FLAG = 1n << 56n;
/** `#` form: 16 nibbles, least significant first, each printed as symbols 1..16. */
const HASH_DIGITS = METHOD_SYMBOLS.slice(1, 17);
const hashDigit = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) hashDigit[HASH_DIGITS.charCodeAt(i)] = i;

const mask64 = (x: bigint): bigint => x & U64_MAX;
const SEAHASH_P = 0x6eed0e9da4d94a4fn;
function seahashDiffuse(x: bigint): bigint {
  x = mask64(x * SEAHASH_P);
  x ^= (x >> 32n) >> (x >> 60n);
  return mask64(x * SEAHASH_P);
}

/** SeaHash of the name's bytes, as psibase's fallback for names that do not compress. */
export function seahash(bytes: Uint8Array): bigint {
  const state = [0x16f11fe89b0d677cn, 0xb480a793d8e6c86cn, 0x6fe2e5aaf078ebc9n, 0x14f994a4c5259381n];
  for (let i = 0; i < bytes.length; i += 8) {
    let n = 0n;
    const end = Math.min(bytes.length, i + 8);
    for (let j = end - 1; j >= i; j--) n = (n << 8n) | BigInt(bytes[j]!);
    const lane = (i >> 3) & 3;
    state[lane] = seahashDiffuse(state[lane]! ^ n);
  }
  return seahashDiffuse(state[0]! ^ state[1]! ^ state[2]! ^ state[3]! ^ BigInt(bytes.length));
}

/**
 * Arithmetic-codes the symbols of `s` and the end symbol into 64 bits, or returns 0n
 * when the code does not fit: it needs a 65th bit, or its 64th bit is 1.
 *
 * psibase's three encoders disagree at this edge. C++ (psio method_to_number) keeps a
 * code whose final flush runs past 64 bits, truncated, so it no longer decodes to the
 * name; Python (psinode tests) allows a 1 in the 64th bit. Rust (psibase_names, used
 * by the system services, plugins and CLI) hashes in both cases, and on each case it
 * agrees with one of the other two, so we follow it; every number we produce then
 * decodes back to its symbols.
 *
 * Arithmetic wraps like the reference's uint32 code values (`>>> 0`, Math.imul):
 * zero-width symbols in the model drive the coder into states where the wrap shows.
 */
function compressMethod(s: string): bigint {
  // Bits fill bytes MSB first; bytes fill the u64 least significant first.
  const out = new Uint8Array(8);
  let bitc = 0;
  let tooLong = false;
  const putBit = (b: boolean): void => {
    if (bitc === 64 || (b && bitc === 63)) {
      tooLong = true;
      return;
    }
    if (b) out[bitc >> 3]! |= 0x80 >> (bitc & 7);
    ++bitc;
  };
  let pending = 0;
  const putBitPlusPending = (b: boolean): void => {
    putBit(b);
    for (; pending > 0; --pending) putBit(!b);
  };

  let low = 0;
  let high = MAX_CODE;
  let last = 0;
  for (let pos = 0; pos <= s.length && !tooLong; pos++) {
    const c = pos < s.length ? methodSymbol[s.charCodeAt(pos)]! : 0;
    const row = last * MODEL_COLS;
    const pLow = MODEL[row + c]!;
    const pHigh = MODEL[row + c + 1]!;
    const count = MODEL[row + MODEL_WIDTH]!;
    last = c;
    const range = (high - low + 1) >>> 0;
    high = (low + Math.floor((Math.imul(range, pHigh) >>> 0) / count) - 1) >>> 0;
    low = (low + Math.floor((Math.imul(range, pLow) >>> 0) / count)) >>> 0;
    while (!tooLong) {
      if (high < ONE_HALF) putBitPlusPending(false);
      else if (low >= ONE_HALF) putBitPlusPending(true);
      else if (low >= ONE_FOURTH && high < THREE_FOURTHS) {
        pending++;
        low -= ONE_FOURTH;
        high -= ONE_FOURTH;
      } else break;
      high = ((high << 1) + 1) & MAX_CODE;
      low = (low << 1) & MAX_CODE;
    }
  }
  pending++;
  putBitPlusPending(low >= ONE_FOURTH);
  if (tooLong) return 0n;
  return new DataView(out.buffer).getBigUint64(0, true);
}

function parseHashForm(s: string): bigint {
  if (s.length !== 17) throw new DecodeError(`hashed method name "${s}" must be '#' and 16 letters`, { details: { name: s } });
  let n = 0n;
  for (let i = 16; i >= 1; i--) {
    const code = s.charCodeAt(i);
    const d = code < 128 ? hashDigit[code]! : -1;
    if (d < 0) throw new DecodeError(`invalid character in hashed method name "${s}"`, { details: { name: s } });
    n = (n << 4n) | BigInt(d);
  }
  // Only numbers with the hash flag print in this form, so only they parse from it.
  if ((n & HASH_FLAG) === 0n) throw new DecodeError(`"${s}" is not a hashed method number`, { details: { name: s } });
  return n;
}

const methodNumbers = new Memo<string, bigint>(MEMO_LIMIT);
const methodNames = new Memo<bigint, string>(MEMO_LIMIT);
const utf8 = new TextEncoder();

/**
 * Name → MethodNumber, as psibase computes it: letters (either case), digits and '_'
 * (with psibase's symbol quirks above); names that do not compress hash; `#…` parses
 * the hashed form back.
 */
export function methodNumber(name: string): bigint {
  const cached = methodNumbers.get(name);
  if (cached !== undefined) return cached;
  checkString(name, 'method name');
  if (name.length === 0) return 0n;
  if (name.charCodeAt(0) === 0x23) return methodNumbers.set(name, parseHashForm(name));
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code >= 128 || methodSymbol[code] === 0) {
      throw new DecodeError(`invalid character in method name "${name}"`, { details: { name } });
    }
  }
  let n = compressMethod(name);
  // The hash is of the name as written (case included), so "ABC…" and "abc…" differ.
  if (n === 0n) n = seahash(utf8.encode(name)) | HASH_FLAG;
  return methodNumbers.set(name, n);
}

function decompressMethod(input: bigint): string | undefined {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, input, true);
  let byteIdx = 0;
  let currentByte = 0;
  let lastMask = 1;
  // The reference reads 16 zero bits past the 64 to finish the last symbols.
  let notEof = 64 + 16;
  const getBit = (): number => {
    if (lastMask === 1) {
      currentByte = byteIdx < 8 ? bytes[byteIdx++]! : 0;
      lastMask = 0x80;
    } else lastMask >>= 1;
    --notEof;
    return (currentByte & lastMask) !== 0 ? 1 : 0;
  };

  let high = MAX_CODE;
  let low = 0;
  let value = 0;
  for (let i = 0; i < CODE_BITS && notEof; i++) value = ((value << 1) + getBit()) >>> 0;
  let last = 0;
  let out = '';
  while (notEof) {
    const range = (high - low + 1) >>> 0;
    if (range === 0) return undefined;
    const row = last * MODEL_COLS;
    const count = MODEL[row + MODEL_WIDTH]!;
    const scaled = Math.floor(((Math.imul((value - low + 1) >>> 0, count) - 1) >>> 0) / range);
    let c = 0;
    while (c < MODEL_WIDTH && scaled >= MODEL[row + c + 1]!) c++;
    if (c === MODEL_WIDTH || c === 0) break;
    const pLow = MODEL[row + c]!;
    const pHigh = MODEL[row + c + 1]!;
    last = c;
    out += METHOD_SYMBOLS[c]!;
    high = (low + Math.floor((Math.imul(range, pHigh) >>> 0) / count) - 1) >>> 0;
    low = (low + Math.floor((Math.imul(range, pLow) >>> 0) / count)) >>> 0;
    while (notEof) {
      if (high < ONE_HALF) {
        // the next bit is a zero: nothing to subtract
      } else if (low >= ONE_HALF) {
        value = (value - ONE_HALF) >>> 0;
        low = (low - ONE_HALF) >>> 0;
        high = (high - ONE_HALF) >>> 0;
      } else if (low >= ONE_FOURTH && high < THREE_FOURTHS) {
        value = (value - ONE_FOURTH) >>> 0;
        low = (low - ONE_FOURTH) >>> 0;
        high = (high - ONE_FOURTH) >>> 0;
      } else break;
      low = (low << 1) >>> 0;
      high = ((high << 1) + 1) >>> 0;
      value = ((value << 1) + getBit()) >>> 0;
    }
  }
  return out;
}

/**
 * MethodNumber → name. Hashed numbers print as `#` and 16 letters. Other numbers
 * must be the compressed form of the name they decode to: psibase prints *something*
 * for any u64, but a number that does not survive the round trip is not a method name
 * (MethodNumber.hpp: "these are also invalid"), so we reject it.
 */
export function methodName(n: bigint): string {
  const cached = methodNames.get(n);
  if (cached !== undefined) return cached;
  checkU64(n, 'method number');
  if (n === 0n) return '';
  let name: string;
  if ((n & HASH_FLAG) !== 0n) {
    name = '#';
    for (let r = n, i = 0; i < 16; i++, r >>= 4n) name += HASH_DIGITS[Number(r & 0xfn)]!;
  } else {
    const decoded = decompressMethod(n);
    if (decoded === undefined || decoded.length === 0 || compressMethod(decoded) !== n) {
      throw new DecodeError(`${n} is not a valid method number`, { details: { value: n.toString() } });
    }
    name = decoded;
  }
  return methodNames.set(n, name);
}
