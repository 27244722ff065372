/**
 * Schema-driven fracpack (doc/src/specifications/data-formats/fracpack.md): compile a
 * psibase schema once, then convert between fracpack bytes and either psibase's JSON
 * form or a native form (bigint for 64-bit integers and names, Uint8Array for bytes).
 */
import { DecodeError, EncodeError, PsiwebError } from '../../errors.ts';
import { accountName, accountNumber, methodName, methodNumber } from '../names.ts';
import { Compiler, type CustomHandler, type CustomTypes } from './compile.ts';
import { boolType, hexType, mapType, nameType, stringType, timeType } from './custom.ts';
import type { Mode, Node } from './node.ts';
import type { AnyType, Schema } from './schema.ts';
import { finish, streamOf } from './stream.ts';
import { Writer } from './writer.ts';

export type { AnyType, Schema } from './schema.ts';
export type { CustomHandler, CustomTypes } from './compile.ts';
export type { Mode } from './node.ts';
export { toHex, fromHex } from './hex.ts';

/** The custom ids every implementation should know (schema.md), plus psibase's own. */
export const standardCustomTypes: CustomTypes = new Map<string, CustomHandler>([
  ['bool', boolType],
  ['string', stringType],
  ['hex', hexType],
  ['map', mapType],
  ['TimePointSec', timeType(0)],
  ['TimePointUSec', timeType(6)],
  ['AccountNumber', nameType(accountName, accountNumber)],
  ['MethodNumber', nameType(methodName, methodNumber)],
]);

export interface Decoded {
  value: unknown;
  /** Whether the bytes carried fields unknown to this schema (a newer encoding). */
  hasUnknown: boolean;
}

/** One compiled type: its specialised encode and decode closures. */
export class FracType {
  constructor(private readonly node: Node) {}

  /** Whether the type packs to a fixed number of bytes, and how many. */
  get fixedSize(): number | undefined {
    return this.node.fixed ? this.node.size : undefined;
  }

  /** Strictly decode exactly `bytes`; any violation of the format is a DecodeError. */
  decode(bytes: Uint8Array): unknown {
    return this.decodeWithInfo(bytes).value;
  }

  decodeWithInfo(bytes: Uint8Array): Decoded {
    if (!(bytes instanceof Uint8Array)) throw new DecodeError('fracpack: expected bytes');
    const s = streamOf(bytes);
    try {
      const value = this.node.read(s, true);
      finish(s);
      return { value, hasUnknown: s.hasUnknown };
    } catch (e) {
      throw asError(e, DecodeError);
    }
  }

  encode(value: unknown): Uint8Array {
    const w = new Writer();
    try {
      this.node.write(w, value);
    } catch (e) {
      throw asError(e, EncodeError);
    }
    return w.finish();
  }
}

/**
 * Malformed input can reach a RangeError deep inside (a DataView past its end, a
 * huge allocation); the caller must still see only our typed errors.
 */
function asError(e: unknown, Kind: typeof DecodeError | typeof EncodeError): PsiwebError {
  if (e instanceof PsiwebError) return e;
  return new Kind(`fracpack: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

export interface FracSchemaOptions {
  mode?: Mode;
  customTypes?: CustomTypes;
}

/** A compiled schema. Types compile on first use and are cached. */
export class FracSchema {
  private readonly compiler: Compiler;
  private readonly cache = new Map<string, FracType>();

  constructor(
    readonly schema: Schema,
    options: FracSchemaOptions = {},
  ) {
    this.compiler = new Compiler(schema, options.mode ?? 'json', options.customTypes ?? standardCustomTypes);
  }

  /** A named type of the schema. Throws SchemaError if it or what it uses is invalid. */
  type(name: string): FracType {
    let t = this.cache.get(name);
    if (!t) {
      t = new FracType(this.compiler.compile(name));
      this.cache.set(name, t);
    }
    return t;
  }

  /** An anonymous type definition that may refer to the schema's named types. */
  typeOf(def: AnyType): FracType {
    return typeof def === 'string' ? this.type(def) : new FracType(this.compiler.compile(def));
  }
}
