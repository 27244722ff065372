// psibase's name encodings: AccountNumber (psibase/name.hpp, NameEncoder.hpp) and
// MethodNumber (psio/compress_name.hpp). Both map names to u64; the tables below are
// the protocol's constants and must not change.

// ---- AccountNumber -----------------------------------------------------------
// A name is up to 10 characters of `-0-9a-z` with no leading, trailing or doubled
// `-`, optionally followed by `+N` (a subaccount, 1..255) in the low byte. The
// encoding of a name equals the number of valid names that sort before it.

const ACCOUNT_MAX_LEN = 10;
const ACCOUNT_CHARS: u64 = 36;
const ACCOUNT_ALPHABET = "-0123456789abcdefghijklmnopqrstuvwxyz";

// tailWithSep[i]: suffixes of length <= i that may start with `-`; tailWithoutSep[i]: those that may not.
const tailWithSep = new StaticArray<u64>(ACCOUNT_MAX_LEN);
const tailWithoutSep = new StaticArray<u64>(ACCOUNT_MAX_LEN);
tailWithSep[0] = 1;
tailWithoutSep[0] = 0;
for (let i = 1; i < ACCOUNT_MAX_LEN; i++) {
  tailWithoutSep[i] = ACCOUNT_CHARS * tailWithSep[i - 1];
  tailWithSep[i] = tailWithoutSep[i - 1] + tailWithoutSep[i] + 1;
}

function accountCharIndex(c: i32): u64 {
  if (c == 0x2d) return 0;
  if (c >= 0x30 && c <= 0x39) return <u64>(c - 0x30 + 1);
  if (c >= 0x41 && c <= 0x5a) return <u64>(c - 0x41 + 11);
  if (c >= 0x61 && c <= 0x7a) return <u64>(c - 0x61 + 11);
  return u64.MAX_VALUE;
}

/** Encode an account name; invalid names give 0, as in psibase. */
export function accountNumber(name: string): u64 {
  let base = name;
  let sub: u32 = 0;
  const plus = name.indexOf("+");
  if (plus >= 0) {
    let valid = true;
    for (let i = plus + 1; i < name.length; i++) {
      const digit = <u32>name.charCodeAt(i) - 0x30;
      if (digit >= 10) { valid = false; break; }
      sub = sub * 10 + digit;
      if (sub > 255) { valid = false; break; }
    }
    if (valid) base = name.substring(0, plus);
    else sub = 0;
  }
  let result: u64 = 0;
  let maxlen = ACCOUNT_MAX_LEN;
  let allowsSep = false;
  let allowsEnd = true;
  for (let i = 0; i < base.length; i++) {
    const idx = accountCharIndex(base.charCodeAt(i));
    if (maxlen == 0 || idx >= ACCOUNT_CHARS + 1 || (idx == 0 && !allowsSep)) return 0;
    if (allowsEnd) result += 1;
    if (idx == 0) {
      result += idx * tailWithSep[maxlen - 1];
    } else {
      result += (idx - 1) * tailWithSep[maxlen - 1];
      if (allowsSep) result += tailWithoutSep[maxlen - 1];
    }
    allowsEnd = allowsSep = idx != 0;
    maxlen--;
  }
  if (!allowsEnd) return 0;
  return (result << 8) + sub;
}

/** Decode an account number to its name (`name+sub` for subaccounts). */
export function accountName(value: u64): string {
  const sub = <u32>(value & 0xff);
  let rest = value >> 8;
  let out = "";
  if (rest <= ACCOUNT_CHARS * tailWithSep[ACCOUNT_MAX_LEN - 1]) {
    let maxlen = ACCOUNT_MAX_LEN;
    let allowsSep = false;
    let allowsEnd = true;
    while (rest != 0 || !allowsEnd) {
      if (allowsEnd) rest -= 1;
      const tail = tailWithSep[maxlen - 1];
      let idx: u64 = 0;
      if (allowsSep) {
        const tailSep = tailWithoutSep[maxlen - 1];
        if (rest >= tailSep) {
          rest -= tailSep;
          idx += 1;
        }
      } else {
        idx += 1;
      }
      idx += rest / tail;
      rest %= tail;
      out += ACCOUNT_ALPHABET.charAt(<i32>idx);
      allowsEnd = allowsSep = idx != 0;
      maxlen--;
    }
  }
  if (sub != 0) out += "+" + sub.toString();
  return out;
}

// ---- MethodNumber ------------------------------------------------------------
// Method names are compressed with an order-1 arithmetic coder over 27 symbols
// (end of name + 26 letters; digits share the codes of the first ten letters and
// `_` that of `q`). Names that do not fit in 63 bits fall back to a seahash with
// bit 56 set, printed as `#` + 16 letters.

const CODE_BITS = 17;
const MAX_CODE: u32 = (1 << CODE_BITS) - 1;
const ONE_FOURTH: u32 = 1 << (CODE_BITS - 2);
const ONE_HALF: u32 = 2 * ONE_FOURTH;
const THREE_FOURTHS: u32 = 3 * ONE_FOURTH;
const SYMBOLS = 27;
const HASH_BIT: u64 = 1 << 56;
const SYMBOL_CHARS = "\0eaiotnrslcuhdpmygbfwvkzxqj";
// Symbol of each letter a..z.
const LETTER_SYMBOL: StaticArray<u8> = [2, 18, 10, 13, 1, 19, 17, 12, 3, 26, 22, 9, 15, 6, 4, 14, 25, 7, 8, 5, 11, 21, 20, 24, 16, 23];
// Cumulative frequencies: row = previous symbol, column = symbol; the last column is the total.
const MODEL: StaticArray<u16> = [
  0, 0, 1956, 4146, 6063, 7423, 9305, 10276, 11226, 13687, 14907, 16131, 17056, 18369, 19922, 21644, 23210, 24604, 25065, 26398, 28475, 30408, 31395, 31725, 32367, 32402, 32623, 32767,
  0, 4880, 5243, 6669, 7714, 8472, 9634, 11619, 15233, 16738, 18031, 18650, 18993, 20913, 22653, 25217, 25802, 26404, 26589, 28244, 29312, 31398, 31845, 32080, 32183, 32478, 32695, 32767,
  0, 1737, 2901, 3020, 3666, 3734, 8543, 12634, 15523, 17208, 21367, 22949, 23407, 24602, 25562, 26470, 28001, 28323, 29045, 30727, 31040, 31251, 32084, 32387, 32496, 32598, 32745, 32767,
  0, 1420, 3454, 4922, 5132, 6751, 9959, 13993, 14547, 18653, 20482, 23055, 23598, 23956, 25067, 25566, 27966, 27973, 28483, 29334, 29844, 30620, 31685, 31882, 32375, 32425, 32757, 32767,
  0, 4209, 5209, 5503, 5994, 6779, 9809, 13734, 16394, 17728, 20734, 21636, 23733, 24071, 24785, 26194, 28482, 28566, 29403, 30186, 30894, 31383, 32100, 32294, 32382, 32531, 32744, 32767,
  0, 6157, 9213, 10380, 13294, 15931, 16600, 16829, 17987, 18142, 18574, 18667, 19055, 21787, 22406, 24449, 24772, 25604, 25663, 29173, 30781, 31791, 31995, 32219, 32350, 32610, 32748, 32767,
  0, 4891, 8913, 10772, 13035, 15218, 19118, 19893, 20080, 21202, 22114, 23568, 23895, 24392, 26546, 26760, 27744, 28021, 30534, 31037, 31376, 31650, 32250, 32490, 32548, 32565, 32709, 32767,
  0, 4689, 9532, 12839, 16144, 19335, 21427, 21880, 22583, 23728, 24811, 25404, 25957, 26777, 27443, 28035, 29213, 30179, 30481, 31447, 31666, 31782, 32303, 32484, 32510, 32511, 32751, 32767,
  0, 5750, 9495, 10402, 12127, 13082, 19468, 19684, 19710, 21681, 23775, 24600, 25576, 26982, 27084, 27953, 30214, 30492, 30515, 30947, 31019, 31446, 31709, 31847, 31884, 31884, 32761, 32767,
  0, 1827, 5418, 7243, 11598, 13806, 14484, 14972, 15432, 15532, 16785, 16863, 17441, 18465, 19298, 23066, 24626, 26449, 26523, 27067, 29601, 31460, 31683, 32257, 32266, 32312, 32318, 32767,
  0, 3085, 6902, 11386, 13498, 18692, 21202, 21246, 22818, 22950, 23980, 24484, 25962, 30168, 30176, 30181, 30391, 31287, 31288, 31293, 31294, 31297, 31592, 32703, 32712, 32712, 32767, 32767,
  0, 1460, 2488, 3382, 4190, 4382, 7997, 13589, 16710, 21209, 25118, 26178, 26204, 26432, 27181, 28387, 30216, 30257, 30864, 31867, 32177, 32219, 32374, 32455, 32551, 32617, 32754, 32767,
  0, 3497, 9469, 11581, 13649, 15750, 19606, 19858, 20362, 20409, 23728, 23738, 24110, 26020, 26170, 26284, 28241, 29240, 29247, 29296, 29442, 29819, 30442, 30559, 30604, 30604, 32763, 32767,
  0, 7725, 13656, 15552, 18212, 19436, 22322, 22566, 23251, 23443, 26247, 26267, 26704, 26809, 27460, 27622, 29567, 30839, 30969, 31225, 31379, 31448, 32114, 32127, 32143, 32143, 32739, 32767,
  0, 3654, 6677, 7904, 9941, 12843, 16232, 16550, 19915, 20300, 22842, 22898, 23406, 25127, 25246, 25931, 27743, 28101, 28153, 28321, 29252, 31975, 32243, 32396, 32480, 32494, 32721, 32767,
  0, 2259, 4242, 6358, 8676, 10453, 10663, 11361, 12343, 12503, 13022, 13049, 13568, 15061, 16673, 21204, 22114, 23775, 23801, 26743, 28089, 29382, 31518, 31992, 32482, 32634, 32711, 32767,
  0, 8569, 10926, 11269, 11458, 12219, 15419, 15811, 16168, 19632, 21864, 22233, 22272, 23584, 23897, 24563, 27086, 27677, 27838, 30347, 30897, 31720, 32305, 32316, 32374, 32410, 32766, 32767,
  0, 5421, 10228, 13261, 16435, 18453, 18538, 19596, 22477, 22749, 25180, 25189, 26615, 28325, 28370, 28391, 28704, 29610, 30232, 30341, 30376, 30446, 32750, 32760, 32764, 32764, 32765, 32767,
  0, 3536, 8233, 9248, 10667, 11916, 16198, 16366, 17262, 17620, 22341, 22384, 23103, 23432, 24178, 24653, 27955, 28446, 28462, 29156, 29914, 30860, 31440, 31618, 31718, 31718, 32711, 32767,
  0, 6957, 8777, 9282, 11114, 12083, 14679, 14746, 15172, 16789, 19423, 19431, 20076, 20456, 21353, 21603, 22831, 23934, 24047, 24077, 26986, 30996, 32258, 32271, 32421, 32421, 32764, 32767,
  0, 4391, 7270, 8148, 9018, 9499, 14426, 14654, 14752, 18571, 23671, 23681, 23696, 24591, 24714, 24801, 27775, 27825, 27830, 30016, 30215, 30862, 31659, 31682, 31823, 31824, 32740, 32767,
  0, 508, 5145, 6952, 9251, 10376, 10985, 11140, 11725, 11743, 12502, 12513, 12662, 15602, 17187, 22455, 22627, 23556, 23562, 26519, 30666, 32564, 32574, 32641, 32646, 32708, 32730, 32767,
  0, 2561, 9484, 10526, 12712, 13144, 24077, 24752, 24913, 25311, 29557, 29584, 29814, 30171, 30199, 30250, 31654, 31986, 32003, 32134, 32255, 32412, 32625, 32686, 32687, 32687, 32751, 32767,
  0, 1902, 10556, 12815, 13501, 14918, 18520, 18600, 18633, 21631, 26209, 26218, 26391, 26794, 26889, 27833, 30807, 31246, 31254, 31774, 32060, 32183, 32247, 32252, 32655, 32655, 32756, 32767,
  0, 3478, 6497, 8308, 12600, 13818, 17038, 17122, 17152, 17528, 20748, 21906, 22255, 22599, 22677, 24481, 25735, 28777, 28815, 28891, 29073, 31075, 31424, 31433, 31485, 31485, 32764, 32767,
  0, 17596, 18281, 18455, 19256, 19875, 20521, 20599, 20949, 21038, 21413, 21416, 23479, 24932, 25804, 26610, 28270, 29555, 29557, 30312, 31584, 32451, 32516, 32525, 32623, 32701, 32703, 32767,
  0, 392, 8308, 10995, 11504, 13348, 22180, 22194, 22231, 22248, 23981, 23981, 26646, 26978, 27000, 27014, 30409, 30435, 30435, 30457, 30474, 30503, 30697, 30704, 30818, 30818, 31861, 32767,];

function symbolOf(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 1;
  if (c >= 0x61 && c <= 0x7a) return LETTER_SYMBOL[c - 0x61];
  if (c >= 0x41 && c <= 0x5a) return LETTER_SYMBOL[c - 0x41];
  if (c == 0x5f) return 25;
  return 0;
}

@inline function cumulative(prev: i32, symbol: i32): u32 {
  return <u32>MODEL[prev * (SYMBOLS + 1) + symbol];
}

function seahashStep(x: u64): u64 {
  const p: u64 = 0x6eed0e9da4d94a4f;
  x *= p;
  x ^= (x >> 32) >> (x >> 60);
  x *= p;
  return x;
}

/** seahash of the name's bytes, as psio uses it for names that do not compress. */
function seahash(bytes: Uint8Array): u64 {
  const state = new StaticArray<u64>(4);
  state[0] = 0x16f11fe89b0d677c;
  state[1] = 0xb480a793d8e6c86c;
  state[2] = 0x6fe2e5aaf078ebc9;
  state[3] = 0x14f994a4c5259381;
  for (let i = 0; i < bytes.length; i += 8) {
    let n: u64 = 0;
    const count = min(bytes.length - i, 8);
    for (let j = 0; j < count; j++) n += (<u64>bytes[i + j]) << (<u64>(j * 8));
    const k = (i / 8) % 4;
    state[k] = seahashStep(state[k] ^ n);
  }
  return seahashStep(state[0] ^ state[1] ^ state[2] ^ state[3] ^ <u64>bytes.length);
}

class BitSink {
  bit: u32 = 0;
  count: i32 = 0;
  nextByte: u32 = 0;
  mask: u32 = 0x80;
  output: u64 = 0;
  pending: i32 = 0;

  put(b: bool): void {
    // A 1 in the 64th bit would collide with the hash marker, so such names do not compress.
    if (b && this.count == 63) {
      this.output = 0;
      this.bit = 64;
      return;
    }
    this.count++;
    if (b) this.nextByte |= this.mask;
    this.mask >>= 1;
    if (this.mask == 0 && this.bit < 64) {
      this.output |= (<u64>this.nextByte) << (<u64>this.bit);
      this.bit += 8;
      this.mask = 0x80;
      this.nextByte = 0;
    }
  }

  putWithPending(b: bool): void {
    this.put(b);
    while (this.pending > 0) {
      this.put(!b);
      this.pending--;
    }
  }
}

/** Encode a method name as psibase does (`MethodNumber{name}`). */
export function methodNumber(name: string): u64 {
  const bytes = Uint8Array.wrap(String.UTF8.encode(name));
  if (bytes.length == 0) return 0;
  if (bytes[0] == 0x23) {
    if (bytes.length != 17) return u64.MAX_VALUE;
    let out: u64 = 0;
    for (let i = 1; i < 17; i++) out |= (<u64>(<u8>(symbolOf(bytes[i]) - 1))) << (<u64>(4 * (i - 1)));
    return out;
  }
  for (let i = 0; i < bytes.length; i++) if (symbolOf(bytes[i]) == 0) return 0;

  const sink = new BitSink();
  let low: u32 = 0;
  let high: u32 = MAX_CODE;
  let prev = 0;
  let pos = 0;
  let c = 1;
  while (c != 0 && sink.bit < 64) {
    c = pos < bytes.length ? symbolOf(bytes[pos++]) : 0;
    const total = cumulative(prev, SYMBOLS);
    const pLow = cumulative(prev, c);
    const pHigh = cumulative(prev, c + 1);
    prev = c;
    const range = high - low + 1;
    if (total == 0) return 0;
    high = low + (range * pHigh) / total - 1;
    low = low + (range * pLow) / total;
    while (sink.bit < 64) {
      if (high < ONE_HALF) {
        sink.putWithPending(false);
      } else if (low >= ONE_HALF) {
        sink.putWithPending(true);
      } else if (low >= ONE_FOURTH && high < THREE_FOURTHS) {
        sink.pending++;
        low -= ONE_FOURTH;
        high -= ONE_FOURTH;
      } else {
        break;
      }
      high = ((high << 1) + 1) & MAX_CODE;
      low = (low << 1) & MAX_CODE;
    }
  }
  sink.pending++;
  sink.putWithPending(low >= ONE_FOURTH);
  if (sink.mask != 0x80 && sink.bit < 64) sink.output |= (<u64>sink.nextByte) << (<u64>sink.bit);
  if (pos != bytes.length || c != 0) sink.output = 0;
  if (sink.output == 0) return seahash(bytes) | HASH_BIT;
  return sink.output;
}

class BitSource {
  input: u64;
  current: u32 = 0;
  mask: u32 = 1;
  // The coder may read up to 16 bits past the 64 that exist; they read as zero.
  remaining: i32 = 64 + 16;
  constructor(input: u64) {
    this.input = input;
  }
  get(): u32 {
    if (this.mask == 1) {
      this.current = <u32>(this.input & 0xff);
      this.input >>= 8;
      this.mask = 0x80;
    } else {
      this.mask >>= 1;
    }
    this.remaining--;
    return (this.current & this.mask) != 0 ? 1 : 0;
  }
}

/**
 * The hashed number of a method name (seahash of its bytes, with the hash bit set), which
 * psibase's Rust encoder gives names whose compressed code does not fit where C++ keeps a
 * truncated code. Dispatch accepts it too, as psibase's `allowHashedMethods` does.
 */
export function hashedMethodNumber(name: string): u64 {
  return seahash(Uint8Array.wrap(String.UTF8.encode(name))) | HASH_BIT;
}

/** Decode a method number to its name; hashed names come back as `#` + 16 letters. */
export function methodName(value: u64): string {
  if (value == 0) return "";
  if ((value & HASH_BIT) != 0) {
    let out = "#";
    let r = value;
    for (let i = 0; i < 16; i++) {
      out += SYMBOL_CHARS.charAt(<i32>(r & 0xf) + 1);
      r >>= 4;
    }
    return out;
  }
  const src = new BitSource(value);
  let high: u32 = MAX_CODE;
  let low: u32 = 0;
  let code: u32 = 0;
  for (let i = 0; i < CODE_BITS && src.remaining > 0; i++) code = (code << 1) + src.get();
  let prev = 0;
  let out = "";
  while (src.remaining > 0) {
    const range = high - low + 1;
    if (range == 0) break;
    const total = cumulative(prev, SYMBOLS);
    const scaled = ((code - low + 1) * total - 1) / range;
    let c = 0;
    let pLow: u32 = 0;
    let pHigh: u32 = 1;
    let pTotal: u32 = 1;
    for (let i = 0; i < SYMBOLS; i++) {
      if (scaled < cumulative(prev, i + 1)) {
        const lo = cumulative(prev, i);
        const hi = cumulative(prev, i + 1);
        if (total != 0) {
          c = i;
          pLow = lo;
          pHigh = hi;
          pTotal = total;
        }
        prev = c;
        break;
      }
    }
    if (c == 0) break;
    out += SYMBOL_CHARS.charAt(c);
    high = low + (range * pHigh) / pTotal - 1;
    low = low + (range * pLow) / pTotal;
    while (src.remaining > 0) {
      if (high < ONE_HALF) {
        // the top bit is 0 in low, high and code alike
      } else if (low >= ONE_HALF) {
        code -= ONE_HALF;
        low -= ONE_HALF;
        high -= ONE_HALF;
      } else if (low >= ONE_FOURTH && high < THREE_FOURTHS) {
        code -= ONE_FOURTH;
        low -= ONE_FOURTH;
        high -= ONE_FOURTH;
      } else {
        break;
      }
      low <<= 1;
      high = (high << 1) + 1;
      code = (code << 1) + src.get();
    }
  }
  return out;
}
