import { DecodeError } from '../../errors.ts';

/**
 * A cursor over fracpack bytes. `end` bounds the object being read (a variant's or a
 * nested payload's size makes a narrower stream). After unknown trailing fields of an
 * extensible struct the reader no longer knows where the previous object ends, so
 * `knownEnd` drops to false until the next offset pointer re-anchors the position.
 */
export class Stream {
  knownEnd = true;
  hasUnknown = false;
  constructor(
    readonly buf: Uint8Array,
    readonly view: DataView,
    public pos: number,
    readonly end: number,
  ) {}
}

export function streamOf(bytes: Uint8Array): Stream {
  return new Stream(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length);
}

export function fail(message: string, pos: number): never {
  throw new DecodeError(`fracpack: ${message} at byte ${pos}`, { details: { pos } });
}

/** Reserve `n` bytes at the cursor; reading where the end is unknown is never valid. */
export function need(s: Stream, n: number): number {
  if (!s.knownEnd) fail('read at an unknown position', s.pos);
  const p = s.pos;
  if (p + n > s.end) fail(`need ${n} bytes, have ${s.end - p}`, p);
  s.pos = p + n;
  return p;
}

/**
 * Follow an offset pointer. Spec: "Every regular offset pointer MUST equal the end of
 * the preceding object if it is known" and "MUST NOT be before the last known position
 * even if the end of the preceding object is not known" (no gaps, no overlaps).
 */
export function setPos(s: Stream, target: number, at: number): void {
  if (s.knownEnd) {
    if (target !== s.pos) fail(`offset points to ${target}, expected ${s.pos}`, at);
  } else {
    if (target < s.pos || target > s.end) fail(`offset points to ${target} outside ${s.pos}..${s.end}`, at);
    s.pos = target;
    s.knownEnd = true;
  }
}

/** Every byte of a top-level object, variant payload or nested payload must be used. */
export function finish(s: Stream): void {
  if (s.knownEnd && s.pos !== s.end) fail(`${s.end - s.pos} unused trailing bytes`, s.pos);
}

/**
 * Skip unknown fields past the known members of an extensible struct or tuple: each
 * must be a 4-byte offset pointer (so a fixed-size remainder is invalid), and the last
 * field present must not be an empty optional (spec: trailing empty optionals are
 * omitted).
 */
export function consumeTrailing(s: Stream, p: number, fixedEnd: number, lastEmpty: boolean): void {
  while (p < fixedEnd) {
    if (fixedEnd - p < 4) fail('unknown fixed data is not a sequence of offsets', p);
    const off = s.view.getUint32(p, true);
    lastEmpty = off === 1;
    if (off > 1) {
      if (off < 4) fail(`reserved offset value ${off}`, p);
      setPos(s, p + off, p);
      s.knownEnd = false;
    }
    s.hasUnknown = true;
    p += 4;
  }
  if (lastEmpty) fail('trailing empty optional must be omitted', p);
}
