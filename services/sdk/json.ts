// A small JSON reader for request bodies (psibase's pack_action endpoints take their
// arguments as JSON). Values are kept as a tree; numbers keep their source text so
// u64 values survive exactly.

import { abortWith } from "./check";

export enum JsonKind { Null, Bool, Number, String, Array, Object }

export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  bool: bool = false;
  /** Number source text, or the decoded string. */
  text: string = "";
  items: JsonValue[] = [];
  keys: string[] = [];

  /** A member of an object, or null. */
  get(key: string): JsonValue | null {
    const i = this.keys.indexOf(key);
    return i < 0 ? null : this.items[i];
  }
}

class Parser {
  pos: i32 = 0;
  constructor(public s: string) {}

  fail(what: string): void {
    abortWith("json: " + what + " at " + this.pos.toString());
  }

  ws(): void {
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) break;
      this.pos++;
    }
  }

  literal(word: string): void {
    if (this.s.substr(this.pos, word.length) != word) this.fail("unexpected character");
    this.pos += word.length;
  }

  str(): string {
    this.pos++;
    let out = "";
    while (true) {
      if (this.pos >= this.s.length) this.fail("unterminated string");
      const c = this.s.charCodeAt(this.pos++);
      if (c == 0x22) return out;
      if (c < 0x20) this.fail("control character in string");
      if (c != 0x5c) {
        out += String.fromCharCode(c);
        continue;
      }
      const e = this.s.charCodeAt(this.pos++);
      if (e == 0x75) {
        if (this.pos + 4 > this.s.length) this.fail("bad \\u escape");
        let code = 0;
        for (let i = 0; i < 4; i++) {
          const h = "0123456789abcdef".indexOf(this.s.charAt(this.pos + i).toLowerCase());
          if (h < 0) this.fail("bad \\u escape");
          code = code * 16 + h;
        }
        out += String.fromCharCode(code);
        this.pos += 4;
      } else {
        const i = "\"\\/bfnrt".indexOf(String.fromCharCode(e));
        if (i < 0) this.fail("bad escape");
        out += "\"\\/\b\f\n\r\t".charAt(i);
      }
    }
  }

  value(depth: i32): JsonValue {
    if (depth > 64) this.fail("nested too deeply");
    this.ws();
    const v = new JsonValue();
    if (this.pos >= this.s.length) this.fail("unexpected end");
    const c = this.s.charCodeAt(this.pos);
    if (c == 0x22) {
      v.kind = JsonKind.String;
      v.text = this.str();
    } else if (c == 0x7b) {
      v.kind = JsonKind.Object;
      this.pos++;
      this.ws();
      if (this.s.charCodeAt(this.pos) == 0x7d) this.pos++;
      else while (true) {
        this.ws();
        if (this.s.charCodeAt(this.pos) != 0x22) this.fail("expected a key");
        v.keys.push(this.str());
        this.ws();
        this.literal(":");
        v.items.push(this.value(depth + 1));
        this.ws();
        if (this.s.charCodeAt(this.pos) == 0x2c) { this.pos++; continue; }
        this.literal("}");
        break;
      }
    } else if (c == 0x5b) {
      v.kind = JsonKind.Array;
      this.pos++;
      this.ws();
      if (this.s.charCodeAt(this.pos) == 0x5d) this.pos++;
      else while (true) {
        v.items.push(this.value(depth + 1));
        this.ws();
        if (this.s.charCodeAt(this.pos) == 0x2c) { this.pos++; continue; }
        this.literal("]");
        break;
      }
    } else if (c == 0x74) {
      this.literal("true");
      v.kind = JsonKind.Bool;
      v.bool = true;
    } else if (c == 0x66) {
      this.literal("false");
      v.kind = JsonKind.Bool;
    } else if (c == 0x6e) {
      this.literal("null");
    } else {
      const start = this.pos;
      while (this.pos < this.s.length && "+-0123456789.eE".indexOf(this.s.charAt(this.pos)) >= 0) this.pos++;
      if (this.pos == start) this.fail("unexpected character");
      v.kind = JsonKind.Number;
      v.text = this.s.substring(start, this.pos);
    }
    return v;
  }
}

/** Parse a whole JSON document; aborts with `json: …` on malformed input. */
export function parseJson(text: string): JsonValue {
  const p = new Parser(text);
  const v = p.value(0);
  p.ws();
  if (p.pos != text.length) p.fail("trailing characters");
  return v;
}

/** A u64 from a JSON number or decimal string (psio accepts both for 64-bit integers). */
export function jsonU64(v: JsonValue | null, field: string): u64 {
  if (v === null || (v.kind != JsonKind.Number && v.kind != JsonKind.String)) abortWith("json: " + field + " must be an integer");
  const t = v!.text;
  if (t.length == 0 || t.length > 20) abortWith("json: " + field + " must be an integer");
  let n: u64 = 0;
  for (let i = 0; i < t.length; i++) {
    const d = t.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) abortWith("json: " + field + " must be a non-negative integer");
    if (n > (u64.MAX_VALUE - <u64>d) / 10) abortWith("json: " + field + " is out of range");
    n = n * 10 + <u64>d;
  }
  return n;
}

/** A string member (required). */
export function jsonStr(v: JsonValue | null, field: string): string {
  if (v === null || v.kind != JsonKind.String) abortWith("json: " + field + " must be a string");
  return v!.text;
}
