/**
 * Running a query (GraphQL spec §5 validation, §6 execution) against a schema's
 * resolvers: only queries (mutations and subscriptions are refused: psibase changes
 * state through transactions). Before anything runs, the whole selection is checked
 * against the schema (unknown fields and arguments, leaf and object selections,
 * fragments: unknown, unused-free cycles, type conditions, depth), so a bad query is
 * refused as a whole with `errors` and no `data`. While running, each field counts
 * against a budget, so no query can make the node do unbounded work; a field whose
 * resolver fails is null with an error at its path, and a null where the schema
 * promises non-null makes its parent null (§6.4.4).
 */
import { GraphqlError, GraphqlLimitError, GraphqlValidationError, type GraphqlErrorJson, type SourceLocation } from './errors.ts';
import { DEFAULT_PARSE_LIMITS, parse, type ArgumentNode, type DirectiveNode, type DocumentNode, type FieldNode, type FragmentNode, type OperationNode, type SelectionNode, type TypeNode, type ValueNode } from './parse.ts';
import { coerceInput, literalValue, namedType, typeString, type FieldDef, type ObjectType, type ResolveInfo, type Schema, type TypeRef, type UnionType } from './schema.ts';

export interface ExecutionLimits {
  maxLength: number;
  maxTokens: number;
  maxNesting: number;
  /** Fields deep, counted through fragments (the standard introspection query needs 13). */
  maxDepth: number;
  /** Field values produced in one answer (every object, list item and scalar counts). */
  maxFields: number;
}

/**
 * maxFields: the full introspection query of any schema here needs under 2,000; a page
 * of 1,000 blocks with six header fields about 10,000, and takes ~0.1 s on a devnet.
 */
export const DEFAULT_LIMITS: ExecutionLimits = { ...DEFAULT_PARSE_LIMITS, maxDepth: 16, maxFields: 20_000 };

export interface GraphqlRequest {
  query: string;
  variables?: Record<string, unknown> | null;
  operationName?: string | null;
}

export interface GraphqlResponse {
  data?: Record<string, unknown> | null;
  errors?: GraphqlErrorJson[];
}

const fieldCache = new WeakMap<ObjectType<any>, Record<string, FieldDef<any>>>();
function fieldsOf(t: ObjectType<any>): Record<string, FieldDef<any>> {
  let f = fieldCache.get(t);
  if (!f) {
    f = t.fields();
    fieldCache.set(t, f);
  }
  return f;
}

function fieldDef(t: ObjectType<any>, name: string): FieldDef<any> | undefined {
  const fields = fieldsOf(t);
  return Object.hasOwn(fields, name) ? fields[name] : undefined;
}

const TYPENAME: FieldDef = { type: { kind: 'NON_NULL', ofType: { kind: 'SCALAR', name: 'String', serialize: (v) => v, parseValue: (v) => v } } };

/** Input types by name, for variable definitions: the schema's scalars and enums. */
function inputType(schema: Schema<any>, node: TypeNode, loc: SourceLocation): TypeRef {
  if (node.kind === 'list') return { kind: 'LIST', ofType: inputType(schema, node.of, loc) };
  if (node.kind === 'nonNull') return { kind: 'NON_NULL', ofType: inputType(schema, node.of, loc) };
  const t = schema.types.get(node.name);
  if (!t) throw new GraphqlValidationError(`Unknown type "${node.name}"`, { locations: [loc] });
  if (t.kind === 'OBJECT' || t.kind === 'UNION') throw new GraphqlValidationError(`Variables cannot be of the output type "${node.name}"`, { locations: [loc] });
  return t;
}

/** Whether a variable of type `v` may be used where `expected` goes (§5.8.5, simplified). */
function usable(v: TypeRef, expected: TypeRef, hasDefault: boolean): boolean {
  if (expected.kind === 'NON_NULL') {
    if (v.kind === 'NON_NULL') return usable(v.ofType, expected.ofType, false);
    return hasDefault && usable(v, expected.ofType, false);
  }
  if (v.kind === 'NON_NULL') return usable(v.ofType, expected, false);
  if (expected.kind === 'LIST') return v.kind === 'LIST' ? usable(v.ofType, expected.ofType, false) : usable(v, expected.ofType, false);
  if (v.kind === 'LIST') return false;
  return v.name === expected.name || (v.name === 'Int' && expected.name === 'Float');
}

interface VariableInfo {
  type: TypeRef;
  hasDefault: boolean;
}

/** Checks a literal against its input type statically (§5.6.1), variables by their types. */
function checkLiteral(node: ValueNode, type: TypeRef, vars: Map<string, VariableInfo>, what: string): void {
  if (node.kind === 'variable') {
    const v = vars.get(node.name);
    if (!v) throw new GraphqlValidationError(`Variable "$${node.name}" is not defined`, { locations: [node.loc] });
    if (!usable(v.type, type, v.hasDefault)) {
      throw new GraphqlValidationError(`Variable "$${node.name}" of type "${typeString(v.type)}" cannot be used for ${what} of type "${typeString(type)}"`, {
        locations: [node.loc],
      });
    }
    return;
  }
  if (type.kind === 'NON_NULL') {
    if (node.kind === 'null') throw new GraphqlValidationError(`${what} must not be null`, { locations: [node.loc] });
    return checkLiteral(node, type.ofType, vars, what);
  }
  if (node.kind === 'null') return;
  if (type.kind === 'LIST') {
    const items = node.kind === 'list' ? node.values : [node];
    items.forEach((v, i) => checkLiteral(v, type.ofType, vars, `${what}[${i}]`));
    return;
  }
  const fail = () => {
    throw new GraphqlValidationError(`${what} of type "${typeString(type)}" cannot be ${describeLiteral(node)}`, { locations: [node.loc] });
  };
  if (type.kind === 'ENUM') {
    if (node.kind !== 'enum' || !type.values.includes(node.value)) fail();
    return;
  }
  if (type.kind !== 'SCALAR') return fail();
  const ok =
    (type.name === 'Int' && node.kind === 'int') ||
    (type.name === 'Float' && (node.kind === 'int' || node.kind === 'float')) ||
    (type.name === 'String' && node.kind === 'string') ||
    (type.name === 'Boolean' && node.kind === 'boolean') ||
    (type.name === 'ID' && (node.kind === 'string' || node.kind === 'int')) ||
    !['Int', 'Float', 'String', 'Boolean', 'ID'].includes(type.name);
  if (!ok) fail();
  try {
    if (node.kind !== 'list' && node.kind !== 'object') type.parseValue(literalValue(node, () => null));
  } catch (e) {
    throw new GraphqlValidationError(`${what}: ${(e as Error).message}`, { locations: [node.loc], cause: e });
  }
}

function describeLiteral(node: ValueNode): string {
  switch (node.kind) {
    case 'string':
      return `the string ${JSON.stringify(node.value)}`;
    case 'list':
      return 'a list';
    case 'object':
      return 'an object';
    case 'null':
      return 'null';
    case 'enum':
      return `the enum value ${node.value}`;
    case 'variable':
      return `$${node.name}`;
    default:
      return String(node.value);
  }
}

/** Static checks of one operation against the schema (§5). Throws the first problem. */
class Validator {
  private visited = 0;

  constructor(
    private readonly schema: Schema<any>,
    private readonly doc: DocumentNode,
    private readonly vars: Map<string, VariableInfo>,
    private readonly maxDepth: number,
    private readonly maxVisits: number,
  ) {}

  selections(
    type: ObjectType<any> | UnionType,
    selections: SelectionNode[],
    depth: number,
    fragmentPath: string[],
    keys: Map<string, { name: string; args: string; loc: SourceLocation }> = new Map(),
  ): void {
    for (const s of selections) {
      this.directives(s.directives);
      if (s.kind === 'field') {
        // Fields answered under one key must be the same field with the same arguments (§5.3.2).
        const key = s.alias ?? s.name;
        const args = JSON.stringify(s.args.map((a) => [a.name, stripLocations(a.value)]).sort());
        // Only fields of one object type can meet in an answer: a union's members may reuse keys.
        const slot = `${type.name}\u0000${key}`;
        const known = keys.get(slot);
        if (known && (known.name !== s.name || known.args !== args)) {
          const why = known.name !== s.name ? `"${known.name}" and "${s.name}" are different fields` : 'they have different arguments';
          throw new GraphqlValidationError(`Fields "${key}" conflict because ${why}; use different aliases`, { locations: [known.loc, s.loc] });
        }
        if (!known) keys.set(slot, { name: s.name, args, loc: s.loc });
        this.field(type, s, depth);
      }
      else {
        let frag: { typeCondition: string | undefined; selections: SelectionNode[] };
        let path = fragmentPath;
        if (s.kind === 'spread') {
          const f = this.doc.fragments.get(s.name);
          if (!f) throw new GraphqlValidationError(`Unknown fragment "${s.name}"`, { locations: [s.loc] });
          if (fragmentPath.includes(s.name)) {
            throw new GraphqlValidationError(`Fragment "${s.name}" spreads itself (${[...fragmentPath, s.name].join(' → ')})`, { locations: [s.loc] });
          }
          frag = f;
          path = [...fragmentPath, s.name];
        } else frag = s;
        let within = type;
        if (frag.typeCondition !== undefined) {
          const t = this.schema.types.get(frag.typeCondition);
          if (!t) throw new GraphqlValidationError(`Unknown type "${frag.typeCondition}"`, { locations: [s.loc] });
          if (t.kind !== 'OBJECT' && t.kind !== 'UNION') throw new GraphqlValidationError(`A fragment cannot be on the ${t.kind.toLowerCase()} "${t.name}"`, { locations: [s.loc] });
          // A spread applies only where the two types can overlap (§5.5.2.3).
          if (!overlap(t, type)) {
            throw new GraphqlValidationError(`A fragment on "${frag.typeCondition}" cannot be spread within "${type.name}"`, { locations: [s.loc] });
          }
          within = t;
        }
        this.selections(within, frag.selections, depth, path, keys);
      }
    }
  }

  private directives(directives: DirectiveNode[]): void {
    for (const d of directives) {
      if (d.name !== 'skip' && d.name !== 'include') throw new GraphqlValidationError(`Unknown directive "@${d.name}"`, { locations: [d.loc] });
      const cond = d.args.find((a) => a.name === 'if');
      for (const a of d.args) if (a.name !== 'if') throw new GraphqlValidationError(`Unknown argument "${a.name}" on directive "@${d.name}"`, { locations: [a.loc] });
      if (!cond) throw new GraphqlValidationError(`Directive "@${d.name}" needs the argument "if"`, { locations: [d.loc] });
      checkLiteral(cond.value, { kind: 'NON_NULL', ofType: { kind: 'SCALAR', name: 'Boolean', serialize: (v) => v, parseValue: (v) => v } }, this.vars, `@${d.name}(if:)`);
    }
  }

  private field(type: ObjectType<any> | UnionType, f: FieldNode, depth: number): void {
    // Fragments spread many times expand exponentially: the expansion is bounded too.
    if (++this.visited > this.maxVisits) throw new GraphqlLimitError(`the query expands to more than ${this.maxVisits} fields`, { locations: [f.loc] });
    if (depth > this.maxDepth) throw new GraphqlLimitError(`the query is deeper than ${this.maxDepth} fields`, { locations: [f.loc] });
    if (f.name === '__typename') {
      if (f.args.length || f.selections) throw new GraphqlValidationError(`"__typename" takes no arguments or selections`, { locations: [f.loc] });
      return;
    }
    const def = type.kind === 'OBJECT' ? fieldDef(type, f.name) : undefined;
    if (!def || (f.name.startsWith('__') && type !== this.schema.query)) {
      throw new GraphqlValidationError(`Cannot query field "${f.name}" on type "${type.name}"`, { locations: [f.loc] });
    }
    const argDefs = def.args ?? {};
    const seen = new Set<string>();
    for (const a of f.args) {
      if (seen.has(a.name)) throw new GraphqlValidationError(`The argument "${a.name}" is given twice`, { locations: [a.loc] });
      seen.add(a.name);
      const ad = Object.hasOwn(argDefs, a.name) ? argDefs[a.name] : undefined;
      if (!ad) throw new GraphqlValidationError(`Unknown argument "${a.name}" on field "${type.name}.${f.name}"`, { locations: [a.loc] });
      checkLiteral(a.value, ad.type, this.vars, `argument "${a.name}"`);
    }
    for (const [name, ad] of Object.entries(argDefs)) {
      if (ad.type.kind === 'NON_NULL' && ad.defaultValue === undefined && !seen.has(name)) {
        throw new GraphqlValidationError(`Field "${type.name}.${f.name}" needs the argument "${name}" of type "${typeString(ad.type)}"`, { locations: [f.loc] });
      }
    }
    const inner = namedType(def.type);
    if (inner.kind === 'OBJECT' || inner.kind === 'UNION') {
      if (!f.selections) throw new GraphqlValidationError(`Field "${f.name}" of type "${typeString(def.type)}" needs a selection of subfields`, { locations: [f.loc] });
      this.selections(inner, f.selections, depth + 1, []);
    } else if (f.selections) {
      throw new GraphqlValidationError(`Field "${f.name}" of type "${typeString(def.type)}" has no subfields`, { locations: [f.loc] });
    }
  }
}

/** A failure that ends the whole execution (a limit), as opposed to one field's error. */
class Abort {
  constructor(readonly error: GraphqlError) {}
}

/** Thrown up to the nearest nullable field when a non-null one is null (§6.4.4). */
class NullBubble {}
const NULL_BUBBLE = new NullBubble();

/**
 * A response path, built as a list from the leaf (one small object per field), made an
 * array only when something reads it: an error, or a resolver's info.path.
 */
interface Path {
  readonly prev: Path | undefined;
  readonly key: string | number;
}

function pathArray(p: Path | undefined): (string | number)[] {
  const out: (string | number)[] = [];
  for (; p; p = p.prev) out.push(p.key);
  return out.reverse();
}

/** What a resolver is told besides its arguments; the path is made on first read. */
class FieldInfo implements ResolveInfo {
  #path: (string | number)[] | undefined;
  constructor(private readonly at: Path) {}
  get path(): (string | number)[] {
    return (this.#path ??= pathArray(this.at));
  }
}

type MaybePromise<T> = T | Promise<T>;

/**
 * Runs the selections. Fields are resolved and completed one after another, in order;
 * a value that is at hand (not a promise) is completed at once, so an answer read from
 * memory takes no turn of the event loop per field, and only a field whose resolver
 * returns a promise waits for it before the fields after it run.
 */
class Executor<Ctx> {
  readonly errors: GraphqlError[] = [];
  private fields = 0;
  /** CollectFields of each selection set and type, once per execution (directives depend only on the variables). */
  private readonly collected = new Map<SelectionNode[], Map<ObjectType<Ctx>, [string, FieldNode[]][]>>();

  constructor(
    private readonly schema: Schema<Ctx>,
    private readonly doc: DocumentNode,
    private readonly variables: Record<string, unknown>,
    private readonly ctx: Ctx,
    private readonly limits: ExecutionLimits,
  ) {}

  private variable = (name: string): unknown => this.variables[name] ?? null;

  private included(directives: DirectiveNode[]): boolean {
    for (const d of directives) {
      const cond = d.args.find((a) => a.name === 'if')!;
      const v = literalValue(cond.value, this.variable) === true;
      if (d.name === 'skip' && v) return false;
      if (d.name === 'include' && !v) return false;
    }
    return true;
  }

  /** CollectFields (§6.3.2): fields by response key, in order, fragments flattened. */
  private collect(type: ObjectType<Ctx>, selections: SelectionNode[], out: Map<string, FieldNode[]>): Map<string, FieldNode[]> {
    for (const s of selections) {
      if (!this.included(s.directives)) continue;
      if (s.kind === 'field') {
        const key = s.alias ?? s.name;
        const known = out.get(key);
        if (known) known.push(s);
        else out.set(key, [s]);
      } else {
        const frag = s.kind === 'spread' ? (this.doc.fragments.get(s.name) as FragmentNode) : s;
        if (frag.typeCondition !== undefined && !this.applies(frag.typeCondition, type)) continue;
        this.collect(type, frag.selections, out);
      }
    }
    return out;
  }

  private collectOnce(type: ObjectType<Ctx>, selections: SelectionNode[]): [string, FieldNode[]][] {
    let byType = this.collected.get(selections);
    if (!byType) this.collected.set(selections, (byType = new Map()));
    let fields = byType.get(type);
    if (!fields) byType.set(type, (fields = [...this.collect(type, selections, new Map())]));
    return fields;
  }

  /** DoesFragmentTypeApply (§6.3.2): the object type itself, or a union it is in. */
  private applies(condition: string, type: ObjectType<Ctx>): boolean {
    if (condition === type.name) return true;
    const t = this.schema.types.get(condition);
    return t?.kind === 'UNION' && t.types.includes(type);
  }

  private count(loc: SourceLocation): void {
    if (++this.fields > this.limits.maxFields) {
      throw new Abort(new GraphqlLimitError(`the answer would have more than ${this.limits.maxFields} fields; ask for less (smaller pages, fewer fields)`, { locations: [loc] }));
    }
  }

  private args(def: FieldDef<any>, nodes: ArgumentNode[], path: Path, loc: SourceLocation): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, ad] of Object.entries(def.args ?? {})) {
      const node = nodes.find((a) => a.name === name);
      let raw: unknown;
      if (node === undefined || (node.value.kind === 'variable' && this.variables[node.value.name] === undefined)) {
        if (ad.defaultValue === undefined) continue;
        raw = ad.defaultValue;
      } else raw = literalValue(node.value, this.variable);
      try {
        out[name] = coerceInput(ad.type, raw, `argument "${name}"`);
      } catch (e) {
        throw new GraphqlError((e as Error).message, { locations: [node?.loc ?? loc], path: pathArray(path), cause: e });
      }
    }
    return out;
  }

  selectionSet(type: ObjectType<Ctx>, parent: unknown, selections: SelectionNode[], path: Path | undefined): MaybePromise<Record<string, unknown>> {
    return this.fieldsFrom(type, parent, this.collectOnce(type, selections), 0, {}, path);
  }

  /** Fields `i` onwards of a selection set into `out`, in order. */
  private fieldsFrom(type: ObjectType<Ctx>, parent: unknown, fields: [string, FieldNode[]][], i: number, out: Record<string, unknown>, path: Path | undefined): MaybePromise<Record<string, unknown>> {
    for (; i < fields.length; i++) {
      const [key, nodes] = fields[i]!;
      const pending = this.field(type, parent, key, nodes, out, path);
      if (pending) {
        const next = i + 1;
        return pending.then(() => this.fieldsFrom(type, parent, fields, next, out, path));
      }
    }
    return out;
  }

  /** One field into out[key]; a promise when it waits for its value. */
  private field(type: ObjectType<Ctx>, parent: unknown, key: string, nodes: FieldNode[], out: Record<string, unknown>, path: Path | undefined): Promise<void> | undefined {
    const node = nodes[0]!;
    const fieldPath: Path = { prev: path, key };
    this.count(node.loc);
    if (node.name === '__typename') {
      out[key] = type.name;
      return undefined;
    }
    const def = fieldDef(type, node.name)!;
    // Same-key fields merge their selections (§6.3.2); their arguments must agree.
    const subSelections = nodes.length === 1 ? node.selections : nodes.flatMap((n) => n.selections ?? []);
    const failed = (e: unknown): void => {
      if (e instanceof Abort) throw e;
      if (e !== NULL_BUBBLE) this.fieldError(e, fieldPath, node.loc);
      if (def.type.kind === 'NON_NULL') throw NULL_BUBBLE;
      out[key] = null;
    };
    const completed = (value: unknown): Promise<void> | undefined => {
      const v = this.complete(def.type, value, subSelections, fieldPath, node.loc);
      if (v instanceof Promise) return v.then((x) => void (out[key] = x), failed);
      out[key] = v;
      return undefined;
    };
    try {
      const args = this.args(def, node.args, fieldPath, node.loc);
      const value = def.resolve ? def.resolve(parent, args, this.ctx, new FieldInfo(fieldPath)) : (parent as Record<string, unknown>)[node.name];
      if (value instanceof Promise) {
        return value.then((v) => {
          try {
            return completed(v);
          } catch (e) {
            failed(e);
            return undefined;
          }
        }, failed);
      }
      return completed(value);
    } catch (e) {
      failed(e);
      return undefined;
    }
  }

  private fieldError(e: unknown, path: Path, loc: SourceLocation): void {
    if (e instanceof GraphqlError) {
      e.path ??= pathArray(path);
      e.locations ??= [loc];
      this.errors.push(e);
    } else {
      // A resolver's own failure: the message, never a stack.
      this.errors.push(new GraphqlError(e instanceof Error ? e.message : String(e), { path: pathArray(path), locations: [loc], cause: e }));
    }
  }

  private complete(type: TypeRef, value: unknown, selections: SelectionNode[] | undefined, path: Path, loc: SourceLocation): MaybePromise<unknown> {
    if (type.kind === 'NON_NULL') {
      const nonNull = (v: unknown) => {
        if (v === null) throw new GraphqlError(`Cannot return null for non-nullable field`, { path: pathArray(path), locations: [loc] });
        return v;
      };
      const v = this.complete(type.ofType, value, selections, path, loc);
      return v instanceof Promise ? v.then(nonNull) : nonNull(v);
    }
    if (value === null || value === undefined) return null;
    if (type.kind === 'LIST') {
      if (!Array.isArray(value)) throw new GraphqlError(`Expected a list for ${typeString(type)}`, { path: pathArray(path), locations: [loc] });
      return this.itemsFrom(type, value, 0, [], selections, path, loc);
    }
    if (type.kind === 'SCALAR') return type.serialize(value);
    if (type.kind === 'ENUM') {
      if (typeof value === 'string' && type.values.includes(value)) return value;
      throw new GraphqlError(`${type.name} cannot represent ${JSON.stringify(value)}`);
    }
    if (type.kind === 'UNION') {
      const member = type.resolve(value);
      return this.selectionSet(member.type, member.value, selections!, path);
    }
    return this.selectionSet(type, value, selections!, path);
  }

  /** Items `i` onwards of a list into `out`, in order. */
  private itemsFrom(type: TypeRef & { kind: 'LIST' }, value: unknown[], i: number, out: unknown[], selections: SelectionNode[] | undefined, path: Path, loc: SourceLocation): MaybePromise<unknown[]> {
    for (; i < value.length; i++) {
      this.count(loc);
      const itemPath: Path = { prev: path, key: i };
      const failed = (e: unknown): void => {
        if (e instanceof Abort) throw e;
        if (e !== NULL_BUBBLE) this.fieldError(e, itemPath, loc);
        if (type.ofType.kind === 'NON_NULL') throw NULL_BUBBLE;
        out.push(null);
      };
      try {
        const v = this.complete(type.ofType, value[i], selections, itemPath, loc);
        if (v instanceof Promise) {
          const next = i + 1;
          return v.then((x) => void out.push(x), failed).then(() => this.itemsFrom(type, value, next, out, selections, path, loc));
        }
        out.push(v);
      } catch (e) {
        failed(e);
      }
    }
    return out;
  }
}

function stripLocations(v: ValueNode): unknown {
  switch (v.kind) {
    case 'list':
      return ['list', v.values.map(stripLocations)];
    case 'object':
      return ['object', v.fields.map((f) => [f.name, stripLocations(f.value)])];
    case 'null':
      return ['null'];
    case 'variable':
      return ['variable', v.name];
    default:
      return [v.kind, v.value];
  }
}

/** Whether some object can be of both types (both are object types or unions). */
function overlap(a: ObjectType<any> | UnionType, b: ObjectType<any> | UnionType): boolean {
  const members = (t: ObjectType<any> | UnionType) => (t.kind === 'UNION' ? t.types : [t]);
  const bs = members(b);
  return members(a).some((t) => bs.includes(t));
}

function requestError(e: unknown): GraphqlResponse {
  if (e instanceof GraphqlError) return { errors: [e.toJSON()] };
  throw e;
}

function pickOperation(doc: DocumentNode, operationName: string | null | undefined): OperationNode {
  if (operationName) {
    const op = doc.operations.find((o) => o.name === operationName);
    if (!op) throw new GraphqlValidationError(`Unknown operation named "${operationName}"`);
    return op;
  }
  if (doc.operations.length === 1) return doc.operations[0]!;
  if (doc.operations.length === 0) throw new GraphqlValidationError('The document has no operation, only fragments');
  throw new GraphqlValidationError('The document has several operations: say which to run with "operationName"');
}

function checkDocument(doc: DocumentNode): void {
  const names = new Set<string>();
  for (const op of doc.operations) {
    if (doc.operations.length > 1 && op.name === undefined) {
      throw new GraphqlValidationError('An anonymous operation must be the only operation in the document', { locations: [op.loc] });
    }
    if (op.name !== undefined) {
      if (names.has(op.name)) throw new GraphqlValidationError(`There are two operations named "${op.name}"`, { locations: [op.loc] });
      names.add(op.name);
    }
  }
}

/**
 * Runs one GraphQL request against `schema` with `ctx` handed to every resolver. Never
 * throws for anything about the request: a query that cannot run answers `errors` and
 * no `data`; one that ran answers `data`, with `errors` for fields that failed.
 */
export async function execute<Ctx>(schema: Schema<Ctx>, request: GraphqlRequest, ctx: Ctx, limits: ExecutionLimits = DEFAULT_LIMITS): Promise<GraphqlResponse> {
  let doc: DocumentNode;
  let op: OperationNode;
  let variables: Record<string, unknown>;
  try {
    if (typeof request.query !== 'string') throw new GraphqlValidationError('The request has no query: send {"query": "…"}');
    doc = parse(request.query, limits);
    checkDocument(doc);
    op = pickOperation(doc, request.operationName);
    if (op.operation !== 'query') {
      throw new GraphqlValidationError(
        `${op.operation === 'mutation' ? 'Mutations' : 'Subscriptions'} are not served: psibase changes state with transactions (push_transaction), and queries read it`,
        { locations: [op.loc] },
      );
    }
    const given = request.variables ?? {};
    if (typeof given !== 'object' || Array.isArray(given)) throw new GraphqlValidationError('"variables" must be a JSON object');
    const infos = new Map<string, VariableInfo>();
    variables = {};
    for (const v of op.variables) {
      if (infos.has(v.name)) throw new GraphqlValidationError(`The variable "$${v.name}" is defined twice`, { locations: [v.loc] });
      const type = inputType(schema, v.type, v.loc);
      infos.set(v.name, { type, hasDefault: v.defaultValue !== undefined });
      if (v.defaultValue) checkLiteral(v.defaultValue, type, infos, `the default of "$${v.name}"`);
      const raw = Object.hasOwn(given, v.name) ? given[v.name] : v.defaultValue ? literalValue(v.defaultValue, () => null) : undefined;
      if (raw === undefined) {
        if (type.kind === 'NON_NULL') throw new GraphqlValidationError(`The variable "$${v.name}" of type "${typeString(type)}" was not given`, { locations: [v.loc] });
        continue;
      }
      try {
        variables[v.name] = coerceInput(type, raw, `variable "$${v.name}"`);
      } catch (e) {
        throw new GraphqlValidationError((e as Error).message, { locations: [v.loc], cause: e });
      }
    }
    if (op.directives.length) throw new GraphqlValidationError('Directives on operations are not supported', { locations: [op.directives[0]!.loc] });
    new Validator(schema, doc, infos, limits.maxDepth, limits.maxFields).selections(schema.query, op.selections, 1, []);
  } catch (e) {
    return requestError(e);
  }
  const executor = new Executor(schema, doc, variables, ctx, limits);
  let data: Record<string, unknown> | null;
  try {
    data = await executor.selectionSet(schema.query, undefined, op.selections, undefined);
  } catch (e) {
    if (e instanceof Abort) return { errors: [e.error.toJSON()] };
    if (e !== NULL_BUBBLE) throw e;
    data = null;
  }
  const out: GraphqlResponse = {};
  if (executor.errors.length) out.errors = executor.errors.map((e) => e.toJSON());
  out.data = data;
  return out;
}
