// psibase's `sites` service (Sites.hpp): static files per account, served on the
// account's subdomain. Content is stored once per sha256 and reference counted, so
// the same file uploaded by many accounts costs one copy.
//
// Tables (psibase's numbering and row layouts):
//   0 SitesContentRow {account, path, contentType, contentHash, contentEncoding?, csp?} by (account, path)
//   1 SiteConfigRow   {account, spa, cache, globalCsp?, proxyAccount?}                 by account
//   2 SitesDataRow    {hash, data}                                                     by hash
//   3 SitesDataRefRow {hash, refs}                                                     by hash
//
// Not here: psibase's fallback decompression through a `brotli-svc` service (a client
// that refuses the stored encoding gets 406), and the GraphQL/SimpleUI pages of the
// sites service's own subdomain.

import {
  abortWith, accountNumber, action, Action, allowCors, Call, callAction, check, HttpHeader,
  HttpReply, HttpRequest, Key, methodNumber, ObjectReader, ObjectWriter, readString, receiver, Row,
  sha256, Table, toHex,
} from "../sdk";
export { start, called } from "../sdk";

const HTTP = accountNumber("http");
const COMMON_API = accountNumber("common-api");
const COMMON_API_PREFIX = "/common/";

const CONTENT_TABLE: u16 = 0;
const CONFIG_TABLE: u16 = 1;
const DATA_TABLE: u16 = 2;
const REF_TABLE: u16 = 3;

// Sites.cpp validEncodings.
const VALID_ENCODINGS: string[] = ["br", "gzip"];

// Sites.cpp DEFAULT_CSP_HEADER: permissive enough for apps that load wasm, blobs and
// the supervisor frame.
const DEFAULT_CSP =
  "default-src 'self';" +
  "font-src 'self' https:;" +
  "script-src 'self' 'unsafe-eval' 'unsafe-inline' blob: https:;" +
  "img-src * data:;" +
  "style-src 'self' 'unsafe-inline';" +
  "frame-src *;" +
  "connect-src * blob:;";

const SITES_METHODS = "GET, OPTIONS, HEAD";

/** An `optional<string>` field. */
function optStr(r: ObjectReader): string | null {
  if (r.isNone()) return null;
  return r.str();
}

class ContentRow extends Row {
  constructor(
    public account: u64,
    public path: string,
    public contentType: string,
    public contentHash: Uint8Array,
    public contentEncoding: string | null,
    public csp: string | null,
  ) {
    super();
  }
  pack(): Uint8Array {
    return ObjectWriter.struct()
      .u64(this.account).str(this.path).str(this.contentType).raw(this.contentHash)
      .optStr(this.contentEncoding).optStr(this.csp)
      .finish();
  }
  primaryKey(): Uint8Array {
    return new Key().name(this.account).str(this.path).finish();
  }
  static read(r: ObjectReader): ContentRow {
    const account = r.u64();
    const path = r.str();
    const contentType = r.str();
    const hash = r.raw(32);
    const encoding = optStr(r);
    const csp = optStr(r);
    r.done();
    return new ContentRow(account, path, contentType, hash, encoding, csp);
  }
  static unpack(data: Uint8Array): ContentRow {
    return ContentRow.read(ObjectReader.struct(data));
  }
}

class ConfigRow extends Row {
  constructor(
    public account: u64,
    public spa: bool = false,
    public cache: bool = true,
    public globalCsp: string | null = null,
    public proxyAccount: u64 = 0,
    public hasProxy: bool = false,
  ) {
    super();
  }
  pack(): Uint8Array {
    const w = ObjectWriter.struct().u64(this.account).bool(this.spa).bool(this.cache).optStr(this.globalCsp);
    if (this.hasProxy) w.someU64(this.proxyAccount);
    else w.none();
    return w.finish();
  }
  primaryKey(): Uint8Array {
    return new Key().name(this.account).finish();
  }
  static unpack(data: Uint8Array): ConfigRow {
    const r = ObjectReader.struct(data);
    const row = new ConfigRow(r.u64(), r.bool(), r.bool());
    row.globalCsp = optStr(r);
    if (!r.isNone()) {
      row.proxyAccount = r.someU64();
      row.hasProxy = true;
    }
    r.done();
    return row;
  }
}

class DataRow extends Row {
  constructor(public hash: Uint8Array, public data: Uint8Array) {
    super();
  }
  pack(): Uint8Array {
    return ObjectWriter.struct().raw(this.hash).bytes(this.data).finish();
  }
  primaryKey(): Uint8Array {
    return new Key().raw(this.hash).finish();
  }
  static unpack(data: Uint8Array): DataRow {
    const r = ObjectReader.struct(data);
    // The content is passed on as it is: a view, not a copy of up to megabytes.
    const row = new DataRow(r.raw(32), r.bytesView());
    r.done();
    return row;
  }
}

class RefRow extends Row {
  constructor(public hash: Uint8Array, public refs: u32) {
    super();
  }
  pack(): Uint8Array {
    return ObjectWriter.struct().raw(this.hash).u32(this.refs).finish();
  }
  primaryKey(): Uint8Array {
    return new Key().raw(this.hash).finish();
  }
  static unpack(data: Uint8Array): RefRow {
    const r = ObjectReader.struct(data);
    const row = new RefRow(r.raw(32), r.u32());
    r.done();
    return row;
  }
}

const contents = (): Table<ContentRow> => new Table<ContentRow>(receiver(), CONTENT_TABLE, ContentRow.unpack);
const configs = (): Table<ConfigRow> => new Table<ConfigRow>(receiver(), CONFIG_TABLE, ConfigRow.unpack);
const datas = (): Table<DataRow> => new Table<DataRow>(receiver(), DATA_TABLE, DataRow.unpack);
const refs = (): Table<RefRow> => new Table<RefRow>(receiver(), REF_TABLE, RefRow.unpack);

function contentKey(account: u64, path: string): Uint8Array {
  return new Key().name(account).str(path).finish();
}

function configOf(account: u64): ConfigRow | null {
  return configs().get(new Key().name(account).finish());
}

/** A path whose last segment has a dot names a static asset, which SPA mode serves as is. */
function isStaticAsset(path: string): bool {
  return path.indexOf(".", path.lastIndexOf("/")) >= 0;
}

/** The path of a target, query string dropped (Sites.cpp normalizeTarget). */
function normalizeTarget(target: string): string {
  const q = target.indexOf("?");
  return q < 0 ? target : target.substring(0, q);
}

/** The file `path` of `account`'s site: SPA and index.html rules, then the proxy chain. */
function contentRow(account: u64, path: string): ContentRow | null {
  const config = configOf(account);
  let row: ContentRow | null;
  if (config !== null && config.spa) {
    row = contents().get(contentKey(account, isStaticAsset(path) ? path : "/index.html"));
  } else {
    row = contents().get(contentKey(account, path));
    if (row === null) row = contents().get(contentKey(account, (path.endsWith("/") ? path : path + "/") + "index.html"));
  }
  if (row === null && config !== null && config.hasProxy) return contentRow(config.proxyAccount, path);
  return row;
}

function rawData(row: ContentRow): Uint8Array {
  const data = datas().get(new Key().raw(row.contentHash).finish());
  if (data === null) abortWith("Invariant failure: file content missing");
  return data!.data;
}

function rootHostOf(host: string): string {
  const args = ObjectWriter.struct().str(host).finish();
  return readString(callAction(new Action(receiver(), HTTP, methodNumber("rootHost"), args)));
}

function isSubdomain(host: string, root: string): bool {
  return host.length > root.length + 1 && host.endsWith(root) && host.charCodeAt(host.length - root.length - 1) == 0x2e;
}

function cspFor(row: ContentRow, rootDomain: string): string {
  let csp = DEFAULT_CSP;
  if (row.csp !== null) {
    csp = row.csp!;
  } else {
    const config = configOf(row.account);
    if (config !== null && config.globalCsp !== null) csp = config.globalCsp!;
  }
  // `{{root}}` lets one policy name sibling subdomains wherever the chain is hosted.
  return csp.replaceAll("{{root}}", rootDomain);
}

function portSuffix(req: HttpRequest): string {
  const host = req.header("host");
  if (host === null) return "";
  const pos = host!.lastIndexOf(":");
  if (pos < 0 || host!.indexOf("]", pos) >= 0) return "";
  return host!.substring(pos);
}

function corsHeaders(headers: HttpHeader[]): HttpHeader[] {
  headers.push(new HttpHeader("Access-Control-Allow-Origin", "*"));
  headers.push(new HttpHeader("Access-Control-Allow-Methods", SITES_METHODS));
  headers.push(new HttpHeader("Access-Control-Allow-Headers", "*"));
  return headers;
}

function notAcceptable(message: string): HttpReply {
  return new HttpReply(406, "text/plain", Uint8Array.wrap(String.UTF8.encode(message)), allowCors());
}

/**
 * The codings an Accept-Encoding header allows (Sites.cpp clarify_accepted_encodings):
 * those with q=0 are refused, other q values are ignored, and identity is allowed
 * unless refused explicitly or through `*`.
 */
function acceptedEncodings(header: string): string[] {
  const accepted = new Array<string>();
  const rejected = new Array<string>();
  const items = header.split(",");
  for (let i = 0; i < items.length; i++) {
    const parts = items[i].toLowerCase().split(";");
    const id = parts[0].trim();
    let zero = false;
    if (parts.length > 1) {
      const q = parts[1].trim();
      check(q.startsWith("q="), "Invalid encoding q value for: " + id);
      const v = q.substring(2);
      check(validQuality(v), "Invalid value for q: " + v);
      zero = parseFloat(v) == 0;
    }
    if (zero) rejected.push(id);
    else accepted.push(id);
  }
  if (!accepted.includes("identity") && !rejected.includes("identity") && !rejected.includes("*")) accepted.push("identity");
  return accepted;
}

/** RFC 7231 qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]. */
function validQuality(v: string): bool {
  if (v.length == 0 || v.length > 5) return false;
  const first = v.charCodeAt(0);
  if (first != 0x30 && first != 0x31) return false;
  if (v.length == 1) return true;
  if (v.charCodeAt(1) != 0x2e) return false;
  for (let i = 2; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (first == 0x31 ? c != 0x30 : c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function serveContent(req: HttpRequest, row: ContentRow, root: string): HttpReply {
  const etag = toHex(row.contentHash.subarray(0, 8));
  const config = configOf(row.account);
  const useCache = config === null || config.cache;
  const ifNoneMatch = req.header("If-None-Match");
  if (useCache && ifNoneMatch !== null && ifNoneMatch == etag) {
    return new HttpReply(304, "", new Uint8Array(0), corsHeaders([new HttpHeader("ETag", etag)]));
  }
  const reply = new HttpReply(200, row.contentType, new Uint8Array(0), corsHeaders([
    new HttpHeader("Content-Security-Policy", cspFor(row, root + portSuffix(req))),
    new HttpHeader("Cache-Control", "no-cache"),
    new HttpHeader("ETag", etag),
  ]));
  if (req.method != "HEAD") reply.body = rawData(row);

  const acceptEncoding = req.header("Accept-Encoding");
  if (acceptEncoding === null) {
    if (row.contentEncoding !== null) reply.withHeader("Content-Encoding", row.contentEncoding!);
    return reply;
  }
  const accepted = acceptedEncodings(acceptEncoding!);
  if (row.contentEncoding === null) {
    if (!accepted.includes("identity")) return notAcceptable("Requested encoding not supported. Requested content uses identity encoding.");
  } else if (accepted.includes(row.contentEncoding!)) {
    reply.withHeader("Content-Encoding", row.contentEncoding!);
  } else {
    return notAcceptable("Requested encoding not supported.");
  }
  return reply;
}

// serveSys(request: HttpRequest, socket: optional<i32>) -> optional<HttpReply>
action("serveSys", (c: Call): void => {
  const args = c.args;
  const req = HttpRequest.read(args.struct());
  if (!args.isNone()) args.someI32();
  // A newer caller (http) also sends the user; sites does not use it.
  if (!args.isNone()) args.someU64();
  const root = rootHostOf(req.host);
  check(req.host.length >= root.length, "request host invalid: \"" + req.host + "\"");
  if (!isSubdomain(req.host, root)) abortWith("Sites app only handles subdomains");
  let account = accountNumber(req.host.substring(0, req.host.length - root.length - 1));
  // Files uploaded by common-api are served at /common/… on every subdomain.
  if (req.target.startsWith(COMMON_API_PREFIX)) account = COMMON_API;

  let reply: HttpReply | null = null;
  if (req.method == "GET" || req.method == "HEAD") {
    const row = contentRow(account, req.path());
    if (row !== null) reply = serveContent(req, row!, root);
  }
  c.ret(ObjectWriter.fixed().optStruct(reply === null ? null : reply!.writer()).finish());
});

function decRef(hash: Uint8Array): void {
  const row = refs().get(new Key().raw(hash).finish());
  if (row === null) abortWith("Invariant failure: missing ref count");
  row!.refs--;
  if (row!.refs == 0) {
    datas().erase(new Key().raw(hash).finish());
    refs().remove(row!);
  } else {
    refs().put(row!);
  }
}

/** Points the sender's `path` at `hash`; true when that content is already stored. */
function link(owner: u64, path: string, contentType: string, encoding: string | null, hash: Uint8Array): bool {
  check(path.startsWith("/"), "Path doesn't begin with /");
  if (encoding !== null) check(VALID_ENCODINGS.includes(encoding!), "Unsupported content encoding");
  const prev = contents().get(contentKey(owner, path));
  let exists = true;
  if (prev === null || toHex(prev.contentHash) != toHex(hash)) {
    if (prev !== null) decRef(prev.contentHash);
    let row = refs().get(new Key().raw(hash).finish());
    if (row === null) row = new RefRow(hash, 0);
    exists = row!.refs > 0;
    row!.refs++;
    refs().put(row!);
  }
  contents().put(new ContentRow(owner, path, contentType, hash, encoding, null));
  return exists;
}

// storeSys(path: string, contentType: string, contentEncoding: optional<string>, content: u8[])
action("storeSys", (c: Call): void => {
  const args = c.args;
  const path = args.str();
  const contentType = args.str();
  const encoding = optStr(args);
  const content = args.bytes();
  const hash = sha256(content);
  if (!link(c.sender, path, contentType, encoding, hash)) datas().put(new DataRow(hash, content));
});

// hardlink(path: string, contentType: string, contentEncoding: optional<string>, contentHash: Checksum256)
action("hardlink", (c: Call): void => {
  const args = c.args;
  const path = args.str();
  const contentType = args.str();
  const encoding = optStr(args);
  const hash = args.raw(32);
  if (!link(c.sender, path, contentType, encoding, hash)) abortWith("Content must exist to use hardlink");
});

// remove(path: string); no-op when the sender has no such file.
action("remove", (c: Call): void => {
  const path = c.args.str();
  const row = contents().get(contentKey(c.sender, path));
  if (row === null) return;
  contents().remove(row!);
  decRef(row!.contentHash);
});

// isValidPath(site: AccountNumber, path: string) -> bool
action("isValidPath", (c: Call): void => {
  const site = c.args.u64();
  const path = normalizeTarget(c.args.str());
  c.retBool(contentRow(site, path) !== null);
});

// getProps(site: AccountNumber, path: string) -> optional<SitesContentRow>
action("getProps", (c: Call): void => {
  const site = c.args.u64();
  const row = contentRow(site, normalizeTarget(c.args.str()));
  c.ret(ObjectWriter.fixed().optObject(row === null ? null : row!.pack()).finish());
});

// getData(site: AccountNumber, path: string, decompress: bool) -> u8[]
action("getData", (c: Call): void => {
  const site = c.args.u64();
  const path = c.args.str();
  const decompress = c.args.bool();
  const row = contentRow(site, path);
  check(row !== null, "Content not found");
  check(row!.contentEncoding === null || !decompress, "Decompression of this content is not supported.");
  c.retBytes(rawData(row!));
});

function configFor(account: u64): ConfigRow {
  const row = configOf(account);
  return row === null ? new ConfigRow(account) : row!;
}

// enableSpa(enable: bool): extensionless paths serve /index.html.
action("enableSpa", (c: Call): void => {
  const row = configFor(c.sender);
  row.spa = c.args.bool();
  configs().put(row);
});

// enableCache(enable: bool): ETag / If-None-Match → 304 (on by default).
action("enableCache", (c: Call): void => {
  const row = configFor(c.sender);
  row.cache = c.args.bool();
  configs().put(row);
});

// setCsp(path: string, csp: string); path "*" sets the site-wide policy.
action("setCsp", (c: Call): void => {
  const path = c.args.str();
  const csp = c.args.str();
  if (path == "*") {
    const row = configFor(c.sender);
    row.globalCsp = csp;
    configs().put(row);
    return;
  }
  const row = contents().get(contentKey(c.sender, path));
  check(row !== null, "Invalid path");
  row!.csp = csp;
  contents().put(row!);
});

// deleteCsp(path: string)
action("deleteCsp", (c: Call): void => {
  const path = c.args.str();
  if (path == "*") {
    const row = configOf(c.sender);
    check(row !== null, "Site not found");
    row!.globalCsp = null;
    configs().put(row!);
    return;
  }
  const row = contents().get(contentKey(c.sender, path));
  check(row !== null, "Invalid path");
  row!.csp = null;
  contents().put(row!);
});

// setProxy(proxy: AccountNumber): files missing from the sender's site come from proxy's.
action("setProxy", (c: Call): void => {
  const proxy = c.args.u64();
  const visited: u64[] = [c.sender];
  let current = proxy;
  while (true) {
    check(!visited.includes(current), "Proxy chain would create a cycle");
    visited.push(current);
    const config = configOf(current);
    if (config === null || !config.hasProxy) break;
    current = config.proxyAccount;
  }
  const row = configFor(c.sender);
  row.proxyAccount = proxy;
  row.hasProxy = true;
  configs().put(row);
});

// clearProxy(); no-op when none is set.
action("clearProxy", (c: Call): void => {
  const row = configOf(c.sender);
  if (row === null || !row!.hasProxy) return;
  row!.hasProxy = false;
  row!.proxyAccount = 0;
  configs().put(row!);
});
