import { SchemaError } from '../../errors.ts';
import { deref, Node, type Member, type Mode } from './node.ts';
import type { AnyType, Schema } from './schema.ts';
import { linkNode } from './link.ts';

/** A custom JSON representation (schema.md "Custom"), keyed by its id. */
export interface CustomHandler {
  /** Whether the handler applies to this underlying type (else fall back to it). */
  matches(base: Node): boolean;
  /** Install read/readAt/write/empty/isEmpty on `node`, whose repr is `base`. */
  link(node: Node, base: Node, mode: Mode): void;
}

export type CustomTypes = ReadonlyMap<string, CustomHandler>;

const INT_BITS = new Set([1, 8, 16, 32, 64]);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Compiles a schema's types into codec nodes, once. Named types and shared
 * definitions compile to one node each, so recursive types work.
 */
export class Compiler {
  private readonly byName = new Map<string, Node>();
  private readonly byDef = new Map<object, Node>();
  private readonly inProgress = new Set<object | string>();
  private readonly pending: Array<[Node, Record<string, unknown>]> = [];
  private readonly customs: Node[] = [];
  private readonly all: Node[] = [];

  constructor(
    private readonly schema: Schema,
    private readonly mode: Mode,
    private readonly custom: CustomTypes,
  ) {
    if (!isRecord(schema)) throw new SchemaError('schema must be an object of named types');
  }

  /** Compile one type (a name or a definition) and everything it reaches. */
  compile(t: AnyType): Node {
    const n = this.shell(t);
    this.complete();
    return deref(n);
  }

  private complete(): void {
    while (this.pending.length > 0) {
      const [node, def] = this.pending.pop()!;
      this.fill(node, def);
    }
    for (const c of this.customs.splice(0)) this.resolveCustom(c);
    for (const n of this.all.splice(0)) {
      if (n.alias) continue;
      for (const m of n.members) m.node = deref(m.node);
      if (n.elem) n.elem = deref(n.elem);
      if (n.repr) n.repr = deref(n.repr);
    }
    for (const n of this.linkQueue.splice(0)) if (!n.alias) linkNode(n, this.mode, this.custom);
  }
  private readonly linkQueue: Node[] = [];

  private node(kind: Node['kind']): Node {
    const n = new Node(kind);
    this.all.push(n);
    this.linkQueue.push(n);
    return n;
  }

  private shell(t: AnyType): Node {
    if (typeof t === 'string') return this.named(t);
    if (!isRecord(t)) throw new SchemaError(`invalid type definition: ${JSON.stringify(t)}`);
    const known = this.byDef.get(t);
    if (known) return known;
    if (this.inProgress.has(t)) throw new SchemaError('fixed-size type contains itself');
    const keys = Object.keys(t);
    if (keys.length !== 1) throw new SchemaError(`type definition needs exactly one kind: ${JSON.stringify(t)}`);
    const kind = keys[0]!;
    const body = (t as Record<string, unknown>)[kind];
    this.inProgress.add(t);
    try {
      const n = this.define(kind, body, t);
      this.byDef.set(t, n);
      return n;
    } finally {
      this.inProgress.delete(t);
    }
  }

  private named(name: string): Node {
    const known = this.byName.get(name);
    if (known) return known;
    if (!Object.hasOwn(this.schema, name)) throw new SchemaError(`unknown type name '${name}'`);
    if (this.inProgress.has(name)) throw new SchemaError(`type '${name}' is defined only in terms of itself`);
    this.inProgress.add(name);
    try {
      const n = this.shell(this.schema[name]!);
      this.byName.set(name, n);
      return n;
    } finally {
      this.inProgress.delete(name);
    }
  }

  private members(body: unknown, what: string): Array<[string, AnyType]> {
    if (!isRecord(body)) throw new SchemaError(`${what} needs an object of members`);
    return Object.entries(body) as Array<[string, AnyType]>;
  }

  private define(kind: string, body: unknown, def: object): Node {
    switch (kind) {
      case 'Int': {
        if (!isRecord(body) || typeof body.isSigned !== 'boolean' || !INT_BITS.has(body.bits as number))
          throw new SchemaError(`unsupported Int ${JSON.stringify(body)}`);
        const n = this.node('int');
        n.bits = body.bits as number;
        n.signed = body.isSigned;
        n.fixed = true;
        n.size = Math.ceil(n.bits / 8);
        return n;
      }
      case 'Float': {
        if (!isRecord(body)) throw new SchemaError('Float needs exp and mantissa');
        const single = body.exp === 8 && body.mantissa === 24;
        const double = body.exp === 11 && body.mantissa === 53;
        if (!single && !double) throw new SchemaError(`unsupported Float ${JSON.stringify(body)}`);
        const n = this.node('float');
        n.exp = body.exp as number;
        n.mantissa = body.mantissa as number;
        n.fixed = true;
        n.size = single ? 4 : 8;
        return n;
      }
      case 'Struct': {
        // Non-extensible: fixed size only if every member is (fracpack.md).
        const n = this.node('struct');
        let fixed = true;
        let size = 0;
        for (const [name, t] of this.members(body, 'Struct')) {
          const m = deref(this.shell(t));
          n.members.push({ name, node: m });
          if (!m.fixed) fixed = false;
          size += m.size;
        }
        n.fixed = fixed;
        n.size = fixed ? size : 4;
        n.len = size;
        return n;
      }
      case 'Array': {
        if (!isRecord(body)) throw new SchemaError('Array needs type and len');
        const len = Number(body.len);
        if (!Number.isSafeInteger(len) || len < 0 || len > 0xffffffff) throw new SchemaError(`bad Array len ${String(body.len)}`);
        const n = this.node('array');
        const e = deref(this.shell(body.type as AnyType));
        n.elem = e;
        n.len = len;
        n.fixed = e.fixed;
        n.size = e.fixed ? e.size * len : 4;
        if (e.size * len > 0xffffffff) throw new SchemaError('Array too large');
        return n;
      }
      case 'Custom': {
        if (!isRecord(body) || typeof body.id !== 'string') throw new SchemaError('Custom needs type and id');
        const repr = deref(this.shell(body.type as AnyType));
        if (!this.custom.has(body.id)) return repr;
        const n = this.node('custom');
        n.repr = repr;
        n.customId = body.id;
        n.fixed = repr.fixed;
        n.size = repr.size;
        this.customs.push(n);
        return n;
      }
      case 'Object':
      case 'Tuple':
      case 'List':
      case 'Option':
      case 'Variant':
      case 'FracPack': {
        // Always variable size, so members can be compiled later: this is what lets
        // a type refer to itself through a list, option, variant ….
        const n = this.node(
          ({ Object: 'object', Tuple: 'tuple', List: 'list', Option: 'option', Variant: 'variant', FracPack: 'fracpack' } as const)[kind],
        );
        this.pending.push([n, def as Record<string, unknown>]);
        return n;
      }
      default:
        throw new SchemaError(`unknown type kind '${kind}'`);
    }
  }

  private fill(n: Node, def: Record<string, unknown>): void {
    const body = Object.values(def)[0];
    switch (n.kind) {
      case 'object':
      case 'variant':
        n.members = this.members(body, n.kind).map(([name, t]): Member => ({ name, node: this.shell(t) }));
        // Spec: "The tag must not be greater than 127."
        if (n.kind === 'variant' && n.members.length > 128) throw new SchemaError('Variant has more than 128 alternatives');
        break;
      case 'tuple':
        if (!Array.isArray(body)) throw new SchemaError('Tuple needs an array of types');
        n.members = body.map((t, i): Member => ({ name: String(i), node: this.shell(t as AnyType) }));
        break;
      default:
        n.elem = this.shell(body as AnyType);
    }
  }

  private resolveCustom(n: Node): void {
    // Look through one custom layer, as psibase does, so e.g. hex over a known custom works.
    let base = deref(n.repr!);
    if (base.kind === 'custom' && base.repr) base = deref(base.repr);
    const handler = this.custom.get(n.customId)!;
    if (handler.matches(base)) n.repr = base;
    else n.alias = base;
  }
}
