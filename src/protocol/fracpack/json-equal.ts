/**
 * Equality of psibase JSON values as the cross-language vectors mean it: a missing
 * member equals null (an omitted optional), a number equals its decimal string (64-bit
 * integers), and "inf"/"Infinity" spell the same float.
 */
export function jsonEquivalent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a === 'number' && typeof b === 'number') return Number.isNaN(a) && Number.isNaN(b);
  if (typeof a === 'number' && typeof b === 'string') return String(a) === b || Object.is(floatName(b), a);
  if (typeof a === 'string' && typeof b === 'number') return jsonEquivalent(b, a);
  if (typeof a === 'string' && typeof b === 'string') return floatName(a) !== undefined && Object.is(floatName(a), floatName(b));
  if (typeof a === 'bigint' || typeof b === 'bigint') return String(a) === String(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return a.length === b.length && a.every((x, i) => x === b[i]);
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => jsonEquivalent(x, b[i]));
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
    for (const k of keys) if (!jsonEquivalent(Object.hasOwn(ao, k) ? ao[k] : null, Object.hasOwn(bo, k) ? bo[k] : null)) return false;
    return true;
  }
  return false;
}

function floatName(s: string): number | undefined {
  if (s === 'Infinity' || s === 'inf') return Infinity;
  if (s === '-Infinity' || s === '-inf') return -Infinity;
  if (s === 'NaN' || s === 'nan') return NaN;
  return undefined;
}
