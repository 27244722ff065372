import { EncodeError } from '../../errors.ts';

// Civil-calendar conversions (proleptic Gregorian), exact for any day count a
// double holds; Date cannot be used because it refuses years past ±275760.
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const pad = (v: number, n: number) => String(v).padStart(n, '0');

/**
 * ISO 8601 extended UTC, as psibase writes TimePointSec (`digits` 0) and
 * TimePointUSec (`digits` 6): `YYYY-MM-DDTHH:MM:SS[.ffffff]Z`. `ticks` counts
 * 10^-digits seconds since the UNIX epoch. Years outside 0000-9999 have no such
 * representation and yield undefined.
 */
export function formatTime(ticks: bigint, digits: number): string | undefined {
  const unit = 10n ** BigInt(digits);
  let sec = ticks / unit;
  let sub = ticks % unit;
  if (sub < 0n) {
    sec -= 1n;
    sub += unit;
  }
  let days = sec / 86400n;
  let tod = sec % 86400n;
  if (tod < 0n) {
    days -= 1n;
    tod += 86400n;
  }
  const [y, m, d] = civilFromDays(Number(days));
  if (y < 0 || y > 9999) return undefined;
  const t = Number(tod);
  const hms = `${pad(Math.floor(t / 3600), 2)}:${pad(Math.floor(t / 60) % 60, 2)}:${pad(t % 60, 2)}`;
  const frac = digits === 0 ? '' : `.${sub.toString().padStart(digits, '0')}`;
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T${hms}${frac}Z`;
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)$/;
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Parses psibase's time strings (a UTC offset may replace Z) into 10^-digits ticks. */
export function parseTime(s: unknown, digits: number): bigint {
  const m = typeof s === 'string' ? TIME_RE.exec(s) : null;
  if (!m) throw new EncodeError(`expected an ISO 8601 time, got ${JSON.stringify(s)}`);
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (mo < 1 || mo > 12 || d < 1 || d > MONTH_DAYS[mo - 1]! || (mo === 2 && d === 29 && !leap))
    throw new EncodeError(`invalid date in ${s as string}`);
  const fracDigits = m[7] ?? '';
  if (h > 24 || mi > 59 || se > 60 || (h === 24 && (mi !== 0 || se !== 0 || /[1-9]/.test(fracDigits))))
    throw new EncodeError(`invalid time of day in ${s as string}`);
  let sec = BigInt(daysFromCivil(y, mo, d)) * 86400n + BigInt(h * 3600 + mi * 60 + Math.min(se, 59));
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11] ?? 0);
    if (oh > 14 || om > 59) throw new EncodeError(`invalid UTC offset in ${s as string}`);
    const off = BigInt((oh * 60 + om) * 60);
    sec += m[9] === '+' ? -off : off;
  }
  const sub = digits === 0 ? 0n : BigInt((fracDigits + '0'.repeat(digits)).slice(0, digits));
  return sec * 10n ** BigInt(digits) + sub;
}
