// Serving HTTP: psibase routes a request for a service's subdomain to its
// `serveSys(request: HttpRequest, socket: optional<i32>, user: optional<AccountNumber>)`
// action, which returns `optional<HttpReply>`; an empty reply means 404.
// Types as in psibase Rpc.hpp and webServices.hpp.

import { ObjectReader, ObjectWriter } from "./fracpack";
import { action, Call } from "./service";

/** HttpHeader{name, value}: a non-extensible struct of two strings. */
export class HttpHeader {
  constructor(public name: string, public value: string) {}

  static read(r: ObjectReader): HttpHeader {
    const h = new HttpHeader(r.str(), r.str());
    r.done();
    return h;
  }

  writer(): ObjectWriter {
    return ObjectWriter.fixed().str(this.name).str(this.value);
  }

  pack(): Uint8Array {
    return this.writer().finish();
  }
}

/** Fixed area of a packed HttpHeader: two offsets. */
const HEADER_FIXED_SIZE = 8;

function readHeaders(r: ObjectReader): HttpHeader[] {
  const v = r.vector();
  const n = v.count(4);
  const headers = new Array<HttpHeader>(0);
  for (let i = 0; i < n; i++) headers.push(HttpHeader.read(v.fixedStruct(HEADER_FIXED_SIZE)));
  v.done();
  return headers;
}

function writeHeaders(headers: HttpHeader[]): ObjectWriter {
  const v = ObjectWriter.vector();
  for (let i = 0; i < headers.length; i++) v.struct(headers[i].writer());
  return v;
}

function findHeader(headers: HttpHeader[], name: string): string | null {
  const wanted = name.toLowerCase();
  for (let i = 0; i < headers.length; i++) if (headers[i].name.toLowerCase() == wanted) return headers[i].value;
  return null;
}

function hexDigit(c: i32): i32 {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** Decode %XX escapes (and `+` as space in query strings) from a URL component. */
export function percentDecode(s: string, plusIsSpace: bool = false): string {
  const bytes = Uint8Array.wrap(String.UTF8.encode(s));
  const out = new Uint8Array(bytes.length);
  let n = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = <i32>bytes[i];
    if (c == 0x25 && i + 2 < bytes.length && hexDigit(bytes[i + 1]) >= 0 && hexDigit(bytes[i + 2]) >= 0) {
      out[n++] = <u8>(hexDigit(bytes[i + 1]) * 16 + hexDigit(bytes[i + 2]));
      i += 2;
    } else {
      out[n++] = plusIsSpace && c == 0x2b ? 0x20 : <u8>c;
    }
  }
  return String.UTF8.decode(out.slice(0, n).buffer);
}

/** HttpRequest{host, method, target, contentType, headers, body}. */
export class HttpRequest {
  constructor(
    public host: string,
    public method: string,
    public target: string,
    public contentType: string,
    public headers: HttpHeader[],
    public body: Uint8Array,
  ) {}

  /** The body is a view into the data being read (ObjectReader.bytesView). */
  static read(r: ObjectReader): HttpRequest {
    const req = new HttpRequest(r.str(), r.str(), r.str(), r.str(), readHeaders(r), r.bytesView());
    r.done();
    return req;
  }

  static unpack(data: Uint8Array): HttpRequest {
    return HttpRequest.read(ObjectReader.struct(data));
  }

  writer(): ObjectWriter {
    return ObjectWriter.struct()
      .str(this.host).str(this.method).str(this.target).str(this.contentType)
      .vec(writeHeaders(this.headers)).bytes(this.body);
  }

  pack(): Uint8Array {
    return this.writer().finish();
  }

  /** The target without its query string, %XX escapes decoded. */
  path(): string {
    const q = this.target.indexOf("?");
    return percentDecode(q < 0 ? this.target : this.target.substring(0, q));
  }

  /** The first value of query parameter `name`, or null. */
  query(name: string): string | null {
    const q = this.target.indexOf("?");
    if (q < 0) return null;
    const items = this.target.substring(q + 1).split("&");
    for (let i = 0; i < items.length; i++) {
      const eq = items[i].indexOf("=");
      const key = percentDecode(eq < 0 ? items[i] : items[i].substring(0, eq), true);
      if (key == name) return eq < 0 ? "" : percentDecode(items[i].substring(eq + 1), true);
    }
    return null;
  }

  /** A header's value (names compare case-insensitively), or null. */
  header(name: string): string | null {
    return findHeader(this.headers, name);
  }

  bodyText(): string {
    return String.UTF8.decodeUnsafe(this.body.dataStart, <usize>this.body.length);
  }
}

/** HttpReply{status, contentType, body, headers}. */
export class HttpReply {
  constructor(
    public status: u16,
    public contentType: string,
    public body: Uint8Array,
    public headers: HttpHeader[] = [],
  ) {}

  static text(body: string, status: u16 = 200): HttpReply {
    return new HttpReply(status, "text/plain", Uint8Array.wrap(String.UTF8.encode(body)));
  }

  static html(body: string, status: u16 = 200): HttpReply {
    return new HttpReply(status, "text/html", Uint8Array.wrap(String.UTF8.encode(body)));
  }

  /** `body` must already be JSON text; see jsonString for quoting strings. */
  static json(body: string, status: u16 = 200): HttpReply {
    return new HttpReply(status, "application/json", Uint8Array.wrap(String.UTF8.encode(body)));
  }

  /** The body is a view into the data being read (ObjectReader.bytesView). */
  static read(r: ObjectReader): HttpReply {
    const reply = new HttpReply(r.u16(), r.str(), r.bytesView(), readHeaders(r));
    r.done();
    return reply;
  }

  static unpack(data: Uint8Array): HttpReply {
    return HttpReply.read(ObjectReader.struct(data));
  }

  withHeader(name: string, value: string): HttpReply {
    this.headers.push(new HttpHeader(name, value));
    return this;
  }

  header(name: string): string | null {
    return findHeader(this.headers, name);
  }

  /** A writer of the packed reply; the body is copied once, when it finishes. */
  writer(): ObjectWriter {
    return ObjectWriter.struct()
      .u16(this.status).str(this.contentType).bytes(this.body).vec(writeHeaders(this.headers));
  }

  pack(): Uint8Array {
    return this.writer().finish();
  }
}

/** psibase's `allowCors()` (Rpc.cpp): any origin may read the reply. */
export function allowCors(): HttpHeader[] {
  return [
    new HttpHeader("Access-Control-Allow-Origin", "*"),
    new HttpHeader("Access-Control-Allow-Methods", "POST, GET, OPTIONS, HEAD, PUT, DELETE"),
    new HttpHeader("Access-Control-Allow-Headers", "*"),
  ];
}

/** Quote `s` as a JSON string. */
export function jsonString(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else if (c < 0x20) out += "\\u00" + (c < 0x10 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

/** Handles one request; null means "not found" (psibase answers 404). */
export type HttpHandler = (request: HttpRequest, user: u64) => HttpReply | null;

let httpHandler: HttpHandler | null = null;

function serveSys(call: Call): void {
  const args = call.args;
  const request = HttpRequest.read(args.struct());
  // `socket` and `user` were added to serveSys later; older callers send neither.
  if (!args.isNone()) args.someI32();
  const user: u64 = args.isNone() ? 0 : args.someU64();
  const reply = httpHandler!(request, user);
  call.ret(ObjectWriter.fixed().optStruct(reply === null ? null : reply.writer()).finish());
}

/** Register `handler` as the service's `serveSys` action. `user` is 0 when nobody is logged in. */
export function serveHttp(handler: HttpHandler): void {
  httpHandler = handler;
  action("serveSys", serveSys);
}
