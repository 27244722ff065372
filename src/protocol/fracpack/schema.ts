/**
 * psibase's schema format (doc/src/specifications/data-formats/schema.md): a map of
 * named types whose values are type definitions or, as plain strings, references to
 * other named types.
 */
export type AnyType =
  | string
  | { Struct: Record<string, AnyType> }
  | { Object: Record<string, AnyType> }
  | { Array: { type: AnyType; len: number | string } }
  | { List: AnyType }
  | { Option: AnyType }
  | { Variant: Record<string, AnyType> }
  | { Tuple: AnyType[] }
  | { Int: { bits: number; isSigned: boolean } }
  | { Float: { exp: number; mantissa: number } }
  | { FracPack: AnyType }
  | { Custom: { type: AnyType; id: string } };

/** A schema's type map; names starting with `@` are internal to the schema. */
export type Schema = Record<string, AnyType>;
