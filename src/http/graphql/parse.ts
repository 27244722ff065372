/**
 * GraphQL's query language (GraphQL spec, October 2021, §2) as clients send it:
 * operations, selection sets, aliases, arguments with literals and variables,
 * variable definitions with defaults, named and inline fragments, directives. Schema
 * definitions (SDL) are not queries and are refused. Limits on length, tokens and
 * nesting keep a hostile text from costing more than a bounded parse.
 */
import { GraphqlLimitError, GraphqlSyntaxError, type SourceLocation } from './errors.ts';

export type ValueNode =
  | { kind: 'variable'; name: string; loc: SourceLocation }
  | { kind: 'int'; value: string; loc: SourceLocation }
  | { kind: 'float'; value: string; loc: SourceLocation }
  | { kind: 'string'; value: string; loc: SourceLocation }
  | { kind: 'boolean'; value: boolean; loc: SourceLocation }
  | { kind: 'null'; loc: SourceLocation }
  | { kind: 'enum'; value: string; loc: SourceLocation }
  | { kind: 'list'; values: ValueNode[]; loc: SourceLocation }
  | { kind: 'object'; fields: { name: string; value: ValueNode }[]; loc: SourceLocation };

export type TypeNode = { kind: 'named'; name: string } | { kind: 'list'; of: TypeNode } | { kind: 'nonNull'; of: TypeNode };

export interface ArgumentNode {
  name: string;
  value: ValueNode;
  loc: SourceLocation;
}

export interface DirectiveNode {
  name: string;
  args: ArgumentNode[];
  loc: SourceLocation;
}

export interface FieldNode {
  kind: 'field';
  alias: string | undefined;
  name: string;
  args: ArgumentNode[];
  directives: DirectiveNode[];
  selections: SelectionNode[] | undefined;
  loc: SourceLocation;
}

export interface FragmentSpreadNode {
  kind: 'spread';
  name: string;
  directives: DirectiveNode[];
  loc: SourceLocation;
}

export interface InlineFragmentNode {
  kind: 'inline';
  typeCondition: string | undefined;
  directives: DirectiveNode[];
  selections: SelectionNode[];
  loc: SourceLocation;
}

export type SelectionNode = FieldNode | FragmentSpreadNode | InlineFragmentNode;

export interface VariableDefinitionNode {
  name: string;
  type: TypeNode;
  defaultValue: ValueNode | undefined;
  loc: SourceLocation;
}

export interface OperationNode {
  operation: 'query' | 'mutation' | 'subscription';
  name: string | undefined;
  variables: VariableDefinitionNode[];
  directives: DirectiveNode[];
  selections: SelectionNode[];
  loc: SourceLocation;
}

export interface FragmentNode {
  name: string;
  typeCondition: string;
  directives: DirectiveNode[];
  selections: SelectionNode[];
  loc: SourceLocation;
}

export interface DocumentNode {
  operations: OperationNode[];
  fragments: Map<string, FragmentNode>;
}

export interface ParseLimits {
  /** Characters of query text. */
  maxLength: number;
  /** Lexical tokens. */
  maxTokens: number;
  /** Nesting of selection sets, lists and objects. */
  maxNesting: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxLength: 64 * 1024, maxTokens: 20_000, maxNesting: 64 };

type TokenKind = 'punct' | 'name' | 'int' | 'float' | 'string' | 'eof';

interface Token {
  kind: TokenKind;
  value: string;
  start: number;
}

const PUNCT = new Set(['!', '$', '&', '(', ')', ':', '=', '@', '[', ']', '{', '|', '}']);
const NAME_START = /[_A-Za-z]/;

/** /[_A-Za-z]/ by character code (a regular expression per character costs more than the rest of a name). */
function isNameStart(code: number): boolean {
  return code === 95 || (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** /[_0-9A-Za-z]/ by character code. */
function isNameChar(code: number): boolean {
  return isNameStart(code) || (code >= 48 && code <= 57);
}
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;

class Lexer {
  private pos = 0;
  private count = 0;
  private readonly lineStarts: number[] = [0];

  constructor(
    private readonly text: string,
    private readonly limits: ParseLimits,
  ) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n' || (text[i] === '\r' && text[i + 1] !== '\n')) this.lineStarts.push(i + 1);
  }

  loc(offset: number): SourceLocation {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo]! + 1 };
  }

  error(message: string, offset: number): GraphqlSyntaxError {
    return new GraphqlSyntaxError(`Syntax error: ${message}`, { locations: [this.loc(offset)] });
  }

  next(): Token {
    if (++this.count > this.limits.maxTokens) {
      throw new GraphqlLimitError(`the query has more than ${this.limits.maxTokens} tokens`, { locations: [this.loc(this.pos)] });
    }
    const t = this.text;
    // Ignored: whitespace, line terminators, commas, comments, a byte order mark.
    for (;;) {
      const c = t[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',' || c === '\uFEFF') this.pos++;
      else if (c === '#') {
        while (this.pos < t.length && t[this.pos] !== '\n' && t[this.pos] !== '\r') this.pos++;
      } else break;
    }
    const start = this.pos;
    if (start >= t.length) return { kind: 'eof', value: '', start };
    const c = t[start]!;
    if (PUNCT.has(c)) {
      this.pos++;
      return { kind: 'punct', value: c, start };
    }
    if (c === '.') {
      if (t.startsWith('...', start)) {
        this.pos += 3;
        return { kind: 'punct', value: '...', start };
      }
      throw this.error('expected "..."', start);
    }
    if (isNameStart(t.charCodeAt(start))) {
      let end = start + 1;
      while (end < t.length && isNameChar(t.charCodeAt(end))) end++;
      this.pos = end;
      return { kind: 'name', value: t.slice(start, end), start };
    }
    if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = start;
      const m = NUMBER.exec(t);
      if (!m) throw this.error(`invalid number`, start);
      this.pos = start + m[0].length;
      const after = t[this.pos];
      if (after !== undefined && (after === '.' || NAME_START.test(after) || (after >= '0' && after <= '9'))) {
        throw this.error(`invalid number, unexpected ${JSON.stringify(after)}`, this.pos);
      }
      return { kind: m[2] || m[3] ? 'float' : 'int', value: m[0], start };
    }
    if (c === '"') return t.startsWith('"""', start) ? this.blockString(start) : this.string(start);
    throw this.error(`unexpected character ${JSON.stringify(c)}`, start);
  }

  private string(start: number): Token {
    const t = this.text;
    let out = '';
    let i = start + 1;
    for (;;) {
      const c = t[i];
      if (c === undefined || c === '\n' || c === '\r') throw this.error('unterminated string', start);
      if (c === '"') break;
      if (c === '\\') {
        const e = t[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u') {
          const hex = t.slice(i + 2, i + 6);
          if (!/^[0-9A-Fa-f]{4}$/.test(hex)) throw this.error('invalid \\u escape in string', i);
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else throw this.error(`invalid escape \\${e ?? ''} in string`, i);
        continue;
      }
      out += c;
      i++;
    }
    this.pos = i + 1;
    return { kind: 'string', value: out, start };
  }

  private blockString(start: number): Token {
    const t = this.text;
    let raw = '';
    let i = start + 3;
    for (;;) {
      if (i >= t.length) throw this.error('unterminated block string', start);
      if (t.startsWith('"""', i)) break;
      if (t.startsWith('\\"""', i)) {
        raw += '"""';
        i += 4;
        continue;
      }
      raw += t[i];
      i++;
    }
    this.pos = i + 3;
    return { kind: 'string', value: blockStringValue(raw), start };
  }
}

/** BlockStringValue (§2.9.4): common indentation and blank first/last lines removed. */
function blockStringValue(raw: string): string {
  const lines = raw.split(/\r\n|\n|\r/);
  let common: number | undefined;
  for (const line of lines.slice(1)) {
    const indent = line.length - line.replace(/^[ \t]+/, '').length;
    if (indent < line.length && (common === undefined || indent < common)) common = indent;
  }
  if (common) for (let i = 1; i < lines.length; i++) lines[i] = lines[i]!.slice(common);
  while (lines.length && /^[ \t]*$/.test(lines[0]!)) lines.shift();
  while (lines.length && /^[ \t]*$/.test(lines[lines.length - 1]!)) lines.pop();
  return lines.join('\n');
}

class Parser {
  private tok: Token;
  private depth = 0;

  constructor(
    private readonly lexer: Lexer,
    private readonly limits: ParseLimits,
  ) {
    this.tok = lexer.next();
  }

  private loc(t = this.tok): SourceLocation {
    return this.lexer.loc(t.start);
  }

  private describe(t: Token): string {
    if (t.kind === 'eof') return 'the end of the query';
    if (t.kind === 'string') return 'a string';
    return `"${t.value}"`;
  }

  private fail(expected: string): never {
    throw this.lexer.error(`expected ${expected}, found ${this.describe(this.tok)}`, this.tok.start);
  }

  private advance(): Token {
    const t = this.tok;
    this.tok = this.lexer.next();
    return t;
  }

  /** The current token (a method, so checks after an advance are not narrowed away). */
  private current(): Token {
    return this.tok;
  }

  private isName(value: string): boolean {
    const t = this.current();
    return t.kind === 'name' && t.value === value;
  }

  private peek(value: string): boolean {
    return this.tok.kind === 'punct' && this.tok.value === value;
  }

  private skip(value: string): boolean {
    if (!this.peek(value)) return false;
    this.advance();
    return true;
  }

  private expect(value: string): Token {
    if (!this.peek(value)) this.fail(`"${value}"`);
    return this.advance();
  }

  private name(): string {
    if (this.tok.kind !== 'name') this.fail('a name');
    return this.advance().value;
  }

  private nest<T>(f: () => T): T {
    if (++this.depth > this.limits.maxNesting) {
      throw new GraphqlLimitError(`the query nests deeper than ${this.limits.maxNesting} levels`, { locations: [this.loc()] });
    }
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  document(): DocumentNode {
    const doc: DocumentNode = { operations: [], fragments: new Map() };
    if (this.tok.kind === 'eof') this.fail('a query');
    while (this.current().kind !== 'eof') {
      const loc = this.loc();
      if (this.peek('{')) {
        doc.operations.push({ operation: 'query', name: undefined, variables: [], directives: [], selections: this.selectionSet(), loc });
      } else if (this.tok.kind === 'name' && (this.tok.value === 'query' || this.tok.value === 'mutation' || this.tok.value === 'subscription')) {
        const operation = this.advance().value as OperationNode['operation'];
        const name = this.tok.kind === 'name' ? this.advance().value : undefined;
        const variables = this.peek('(') ? this.variableDefinitions() : [];
        const directives = this.directives(true);
        doc.operations.push({ operation, name, variables, directives, selections: this.selectionSet(), loc });
      } else if (this.tok.kind === 'name' && this.tok.value === 'fragment') {
        this.advance();
        const name = this.name();
        if (name === 'on') throw this.lexer.error('a fragment cannot be named "on"', this.tok.start);
        if (!this.isName('on')) this.fail('"on"');
        this.advance();
        const typeCondition = this.name();
        const directives = this.directives(true);
        if (doc.fragments.has(name)) throw this.lexer.error(`there are two fragments named "${name}"`, this.tok.start);
        doc.fragments.set(name, { name, typeCondition, directives, selections: this.selectionSet(), loc });
      } else if (this.tok.kind === 'name') {
        throw this.lexer.error(`"${this.tok.value}" is not a query (type system definitions are not accepted)`, this.tok.start);
      } else this.fail('a query, mutation, subscription or fragment');
    }
    return doc;
  }

  private variableDefinitions(): VariableDefinitionNode[] {
    this.expect('(');
    const out: VariableDefinitionNode[] = [];
    while (!this.skip(')')) {
      const loc = this.loc();
      this.expect('$');
      const name = this.name();
      this.expect(':');
      const type = this.type();
      const defaultValue = this.skip('=') ? this.value(true) : undefined;
      this.directives(true);
      out.push({ name, type, defaultValue, loc });
    }
    if (out.length === 0) this.fail('a variable definition');
    return out;
  }

  private type(): TypeNode {
    return this.nest(() => {
      let t: TypeNode;
      if (this.skip('[')) {
        t = { kind: 'list', of: this.type() };
        this.expect(']');
      } else t = { kind: 'named', name: this.name() };
      return this.skip('!') ? { kind: 'nonNull', of: t } : t;
    });
  }

  private directives(isConst: boolean): DirectiveNode[] {
    const out: DirectiveNode[] = [];
    while (this.peek('@')) {
      const loc = this.loc();
      this.advance();
      out.push({ name: this.name(), args: this.arguments(isConst), loc });
    }
    return out;
  }

  private arguments(isConst: boolean): ArgumentNode[] {
    if (!this.skip('(')) return [];
    const out: ArgumentNode[] = [];
    while (!this.skip(')')) {
      const loc = this.loc();
      const name = this.name();
      this.expect(':');
      out.push({ name, value: this.value(isConst), loc });
    }
    if (out.length === 0) this.fail('an argument');
    return out;
  }

  private selectionSet(): SelectionNode[] {
    return this.nest(() => {
      this.expect('{');
      const out: SelectionNode[] = [];
      while (!this.skip('}')) out.push(this.selection());
      if (out.length === 0) this.fail('a field');
      return out;
    });
  }

  private selection(): SelectionNode {
    const loc = this.loc();
    if (this.skip('...')) {
      if (this.tok.kind === 'name' && this.tok.value !== 'on') {
        const name = this.advance().value;
        return { kind: 'spread', name, directives: this.directives(false), loc };
      }
      let typeCondition: string | undefined;
      if (this.tok.kind === 'name' && this.tok.value === 'on') {
        this.advance();
        typeCondition = this.name();
      }
      const directives = this.directives(false);
      return { kind: 'inline', typeCondition, directives, selections: this.selectionSet(), loc };
    }
    let name = this.name();
    let alias: string | undefined;
    if (this.skip(':')) {
      alias = name;
      name = this.name();
    }
    const args = this.arguments(false);
    const directives = this.directives(false);
    const selections = this.peek('{') ? this.selectionSet() : undefined;
    return { kind: 'field', alias, name, args, directives, selections, loc };
  }

  private value(isConst: boolean): ValueNode {
    const loc = this.loc();
    const t = this.tok;
    if (t.kind === 'punct') {
      if (t.value === '$') {
        if (isConst) this.fail('a constant value (variables are not allowed here)');
        this.advance();
        return { kind: 'variable', name: this.name(), loc };
      }
      if (t.value === '[') {
        return this.nest(() => {
          this.advance();
          const values: ValueNode[] = [];
          while (!this.skip(']')) values.push(this.value(isConst));
          return { kind: 'list', values, loc };
        });
      }
      if (t.value === '{') {
        return this.nest(() => {
          this.advance();
          const fields: { name: string; value: ValueNode }[] = [];
          while (!this.skip('}')) {
            const name = this.name();
            this.expect(':');
            fields.push({ name, value: this.value(isConst) });
          }
          return { kind: 'object', fields, loc };
        });
      }
      this.fail('a value');
    }
    this.advance();
    switch (t.kind) {
      case 'int':
        return { kind: 'int', value: t.value, loc };
      case 'float':
        return { kind: 'float', value: t.value, loc };
      case 'string':
        return { kind: 'string', value: t.value, loc };
      case 'name':
        if (t.value === 'true' || t.value === 'false') return { kind: 'boolean', value: t.value === 'true', loc };
        if (t.value === 'null') return { kind: 'null', loc };
        return { kind: 'enum', value: t.value, loc };
      default:
        this.tok = t;
        return this.fail('a value');
    }
  }
}

/** Parses a query document; throws GraphqlSyntaxError or GraphqlLimitError. */
export function parse(text: string, limits: ParseLimits = DEFAULT_PARSE_LIMITS): DocumentNode {
  if (text.length > limits.maxLength) throw new GraphqlLimitError(`the query is longer than ${limits.maxLength} characters`);
  const lexer = new Lexer(text, limits);
  return new Parser(lexer, limits).document();
}
