import type { Stream } from './stream.ts';
import type { Writer } from './writer.ts';

export type Kind =
  | 'int'
  | 'float'
  | 'struct'
  | 'object'
  | 'tuple'
  | 'array'
  | 'list'
  | 'option'
  | 'variant'
  | 'fracpack'
  | 'custom';

/** JSON form (psibase's JSON) or native form (bigint for u64, Uint8Array for bytes). */
export type Mode = 'json' | 'native';

export interface Member {
  name: string;
  node: Node;
}

/**
 * One compiled type. Shape (kind, size, children) is filled in first so recursive
 * types can refer to each other; `link` then installs the specialised codec closures.
 */
export class Node {
  /** Fixed-size types live wholly in their parent's fixed area; others use an offset. */
  fixed = false;
  /** Bytes taken in a parent's fixed area: the type's size, or 4 for an offset. */
  size = 4;
  bits = 0;
  signed = false;
  exp = 0;
  mantissa = 0;
  members: Member[] = [];
  elem: Node | undefined;
  len = 0;
  /** For a custom type: the underlying representation and the handler id. */
  repr: Node | undefined;
  customId = '';
  /** Set when a custom id is unknown or does not fit its type: use `alias` instead. */
  alias: Node | undefined;

  /** Decode at the stream's cursor. `allowEmpty`: an empty container may be inline. */
  read!: (s: Stream, allowEmpty: boolean) => unknown;
  /** Fixed-size types only: decode at absolute position `p` (bounds already checked). */
  readAt!: (s: Stream, p: number) => unknown;
  write!: (w: Writer, v: unknown) => void;
  /** The value an offset of 0 stands for; throws DecodeError if not a container. */
  empty!: (at: number) => unknown;
  /** Whether `v` is an empty container, packed as offset 0 instead of a pointer. */
  isEmpty!: (v: unknown) => boolean;

  constructor(readonly kind: Kind) {}
}

export function deref(n: Node): Node {
  while (n.alias) n = n.alias;
  return n;
}
