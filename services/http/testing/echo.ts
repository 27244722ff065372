// Test server for the http routing tests: answers /echo with the request headers it
// was given (one `name: value` line each), /bad-header with a header http must refuse,
// and nothing else, so the router falls through to `sites`.

import { HttpReply, HttpRequest, serveHttp } from "../../sdk";
export { start, called } from "../../sdk";

serveHttp((req: HttpRequest, user: u64): HttpReply | null => {
  if (req.path() == "/echo") {
    let text = "";
    for (let i = 0; i < req.headers.length; i++) text += req.headers[i].name + ": " + req.headers[i].value + "\n";
    return HttpReply.text(text);
  }
  if (req.path() == "/bad-header") return HttpReply.text("x").withHeader("X-Powered-By", "echo");
  return null;
});
