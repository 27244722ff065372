// psibase's HTTP server service, account `http` (HttpServer.hpp; psibase renamed it
// from `http-server` when account names were limited to 10 characters). It routes a
// request by its host: `<service>.<root>` goes to the server `service` registered
// with `registerServer`, then to `sites` for static content; `/common/…` on any
// subdomain goes to `common-api`; the root host itself redirects to `homepage`.
//
// psiweb has no socket layer: psibase's `serve(socket, req)` sends the reply through
// `x-http::sendReply`, this one returns it. The root host comes from the node, as in
// psibase, through `x-http::rootHost(host)`.
//
// Tables: 0 RegServTable {service, server} by service; 1 RedirectTable
// {account, destination} by account.

import {
  abortWith, accountName, accountNumber, action, Action, allowCors, Call, callAction, check,
  HttpHeader, HttpReply, HttpRequest, Key, methodNumber, ObjectReader, ObjectWriter, readString,
  receiver, Row, Table,
} from "../sdk";
export { start, called } from "../sdk";

const X_HTTP = accountNumber("x-http");
const SITES = accountNumber("sites");
const HOMEPAGE = accountNumber("homepage");
const COMMON_API = accountNumber("common-api");
const COMMON_API_PREFIX = "/common/";

// Headers a service may set on its reply (HttpServer.cpp allowedHeaders); names
// compare exactly, as psibase's binary search does.
const ALLOWED_HEADERS: string[] = [
  "Access-Control-Allow-Credentials",
  "Access-Control-Allow-Headers",
  "Access-Control-Allow-Methods",
  "Access-Control-Allow-Origin",
  "Allow",
  "Cache-Control",
  "Content-Encoding",
  "Content-Security-Policy",
  "ETag",
  "Location",
  "Set-Cookie",
  "X-Content-Type-Options",
];

class RegisteredServiceRow extends Row {
  constructor(public service: u64, public server: u64) {
    super();
  }
  pack(): Uint8Array {
    return ObjectWriter.struct().u64(this.service).u64(this.server).finish();
  }
  primaryKey(): Uint8Array {
    return new Key().name(this.service).finish();
  }
  static unpack(data: Uint8Array): RegisteredServiceRow {
    const r = ObjectReader.struct(data);
    const row = new RegisteredServiceRow(r.u64(), r.u64());
    r.done();
    return row;
  }
}

class RedirectRow extends Row {
  constructor(public account: u64, public destination: u64) {
    super();
  }
  pack(): Uint8Array {
    return ObjectWriter.struct().u64(this.account).u64(this.destination).finish();
  }
  primaryKey(): Uint8Array {
    return new Key().name(this.account).finish();
  }
  static unpack(data: Uint8Array): RedirectRow {
    const r = ObjectReader.struct(data);
    const row = new RedirectRow(r.u64(), r.u64());
    r.done();
    return row;
  }
}

function servers(): Table<RegisteredServiceRow> {
  return new Table<RegisteredServiceRow>(receiver(), 0, RegisteredServiceRow.unpack);
}

function redirects(): Table<RedirectRow> {
  return new Table<RedirectRow>(receiver(), 1, RedirectRow.unpack);
}

/** The low byte of an AccountNumber numbers a subaccount (`name+N`), which has no host name. */
function isSubaccount(account: u64): bool {
  return (account & 0xff) != 0;
}

function rootHostOf(host: string): string {
  const args = ObjectWriter.struct().str(host).finish();
  return readString(callAction(new Action(receiver(), X_HTTP, methodNumber("rootHost"), args)));
}

function isSubdomain(host: string, root: string): bool {
  return host.length > root.length + 1 && host.endsWith(root) && host.charCodeAt(host.length - root.length - 1) == 0x2e;
}

function lower(s: string): string {
  return s.toLowerCase();
}

/** psibase isLocalhost (Rpc.cpp): `localhost` or a name under it, port ignored. */
function isLocalhost(host: string): bool {
  const colon = host.indexOf(":");
  const domain = colon < 0 ? host : host.substring(0, colon);
  return domain == "localhost" || (domain.length > 10 && domain.endsWith(".localhost"));
}

/** Forwarded scheme (X-Forwarded-Proto, then Forwarded's proto=), if http or https. */
function forwardedProto(req: HttpRequest): string | null {
  const xfp = req.header("x-forwarded-proto");
  if (xfp !== null) {
    const v = lower(xfp!);
    if (v == "http" || v == "https") return v;
  }
  for (let i = 0; i < req.headers.length; i++) {
    if (lower(req.headers[i].name) != "forwarded") continue;
    const params = req.headers[i].value.split(";");
    for (let j = 0; j < params.length; j++) {
      const p = params[j].trim();
      const eq = p.indexOf("=");
      if (eq < 0 || lower(p.substring(0, eq).trim()) != "proto") continue;
      let v = lower(p.substring(eq + 1).trim());
      if (v.startsWith("\"") && v.endsWith("\"") && v.length >= 2) v = v.substring(1, v.length - 1);
      if (v == "http" || v == "https") return v;
    }
  }
  return null;
}

/** The `:port` of the Host header, if any (not inside a bracketed IPv6 literal). */
function hostHeaderPortSuffix(req: HttpRequest): string {
  const host = req.header("host");
  if (host === null) return "";
  const pos = host!.lastIndexOf(":");
  if (pos < 0 || host!.indexOf("]", pos) >= 0) return "";
  return host!.substring(pos);
}

function siblingUrl(req: HttpRequest, destination: u64, keepTarget: bool): string {
  const root = rootHostOf(req.host);
  check(lower(req.host) == lower(root) || isSubdomain(req.host, root), "request host invalid: \"" + req.host + "\"");
  const proto = forwardedProto(req);
  // Without a forwarded scheme psibase asks the socket; psiweb has none, so it decides
  // as psibase does for socketless requests.
  const scheme = proto !== null ? proto! : isLocalhost(req.host) ? "http" : "https";
  return scheme + "://" + accountName(destination) + "." + root + hostHeaderPortSuffix(req) + (keepTarget ? req.target : "/");
}

/** psibase HttpRequest::removeCookie: drops cookie `name` from every Cookie header. */
function removeCookie(req: HttpRequest, name: string): void {
  const kept = new Array<HttpHeader>();
  for (let i = 0; i < req.headers.length; i++) {
    const h = req.headers[i];
    if (lower(h.name) != "cookie") {
      kept.push(h);
      continue;
    }
    const parts = h.value.split(";");
    let value = "";
    for (let j = 0; j < parts.length; j++) {
      const eq = parts[j].indexOf("=");
      check(eq >= 0, "Invalid cookie");
      const kv = parts[j].trimStart();
      if (kv.substring(0, kv.indexOf("=")) == name) continue;
      value += (value.length == 0 ? "" : "; ") + kv;
    }
    if (value.length > 0) kept.push(new HttpHeader(h.name, value));
  }
  req.headers = kept;
}

function withoutAuthorization(req: HttpRequest): void {
  const kept = new Array<HttpHeader>();
  for (let i = 0; i < req.headers.length; i++) if (lower(req.headers[i].name) != "authorization") kept.push(req.headers[i]);
  req.headers = kept;
}

function checkHeaders(server: u64, reply: HttpReply): void {
  for (let i = 0; i < reply.headers.length; i++) {
    if (!ALLOWED_HEADERS.includes(reply.headers[i].name)) {
      abortWith("service " + accountName(server) + " attempted to set http header " + reply.headers[i].name);
    }
  }
}

/** `server.serveSys(req, socket, user)`; null when it has nothing for this request. */
function askServer(server: u64, req: HttpRequest, socket: i32): HttpReply | null {
  // psibase passes the logged-in user from r-transact's session; psiweb's sessions
  // are not on chain yet, so servers see none.
  const args = ObjectWriter.struct().struct(req.writer()).someI32(socket).none().finish();
  const r = ObjectReader.fixed(callAction(new Action(receiver(), server, methodNumber("serveSys"), args)), 4);
  if (r.isNone()) {
    r.done();
    return null;
  }
  const reply = HttpReply.read(r.struct());
  r.done();
  return reply;
}

function notFound(req: HttpRequest): HttpReply {
  return new HttpReply(404, "text/html", Uint8Array.wrap(String.UTF8.encode("The resource '" + req.target + "' was not found")), allowCors());
}

function redirectTo(req: HttpRequest, destination: u64): HttpReply {
  const headers = allowCors();
  headers.push(new HttpHeader("Location", siblingUrl(req, destination, true)));
  return new HttpReply(308, "text/html", new Uint8Array(0), headers);
}

function serve(socket: i32, req: HttpRequest): HttpReply {
  // Requests carry the user's session; services must not see its secrets.
  removeCookie(req, "__HOST-SESSION");
  removeCookie(req, "SESSION");
  withoutAuthorization(req);

  const root = rootHostOf(req.host);
  if (!isSubdomain(req.host, root)) return redirectTo(req, HOMEPAGE);
  const subdomain = accountNumber(req.host.substring(0, req.host.length - root.length - 1));
  if (isSubaccount(subdomain)) return notFound(req);

  const redirect = redirects().get(new Key().name(subdomain).finish());
  if (redirect !== null) return redirectTo(req, redirect.destination);

  const service = req.target.startsWith(COMMON_API_PREFIX) ? COMMON_API : subdomain;
  const registered = servers().get(new Key().name(service).finish());
  let server: u64 = SITES;
  let reply: HttpReply | null = null;
  if (registered !== null) {
    server = registered.server;
    reply = askServer(server, req, socket);
  }
  if (reply === null) {
    server = SITES;
    reply = askServer(SITES, req, socket);
  }
  if (reply !== null) {
    checkHeaders(server, reply!);
    return reply!;
  }
  if (req.method == "OPTIONS") return new HttpReply(200, "", new Uint8Array(0), allowCors());
  return notFound(req);
}

// serve(socket: i32, req: HttpRequest) -> HttpReply; only the node (as x-http) may call it.
action("serve", (c: Call): void => {
  check(c.sender == X_HTTP, "Wrong sender");
  const socket = c.args.i32();
  const req = HttpRequest.read(c.args.struct());
  c.ret(serve(socket, req).pack());
});

// registerServer(server: AccountNumber): `server`'s serveSys answers for the sender's subdomain.
action("registerServer", (c: Call): void => {
  const server = c.args.u64();
  check(!isSubaccount(c.sender), "Subaccounts do not have domain names");
  servers().put(new RegisteredServiceRow(c.sender, server));
});

// setRedirect(destination: AccountNumber): the sender's subdomain answers 308 to `destination`'s.
action("setRedirect", (c: Call): void => {
  const destination = c.args.u64();
  check(!isSubaccount(c.sender), "Subaccounts do not have domain names");
  check(destination != c.sender, "redirect destination must not be the sender");
  redirects().put(new RedirectRow(c.sender, destination));
});

// clearRedirect(): no-op when none is set.
action("clearRedirect", (c: Call): void => {
  redirects().erase(new Key().name(c.sender).finish());
});

// rootHost(host: string) -> string
action("rootHost", (c: Call): void => {
  c.retString(rootHostOf(c.args.str()));
});

// getSiblingUrl(req: HttpRequest, socket: optional<i32>, destination: AccountNumber, keepTarget: bool) -> string
action("getSiblingUrl", (c: Call): void => {
  const args = c.args;
  const req = HttpRequest.read(args.struct());
  if (!args.isNone()) args.someI32();
  const destination = args.u64();
  const keepTarget = args.bool();
  c.retString(siblingUrl(req, destination, keepTarget));
});
