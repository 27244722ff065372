// Test stand-in for psibase's node-local `x-http` service, of which the http tests
// need only `rootHost(host) -> string`: the most specific configured root host that
// `host` is or ends with, else the first (XHttp.cpp getRootHost). The hosts are what
// a node started with `--host psiweb.localhost --host other.example` would have.

import { action, Call } from "../../sdk";
export { start, called } from "../../sdk";

const HOSTS: string[] = ["psiweb.localhost", "other.example"];

action("rootHost", (c: Call): void => {
  const host = c.args.str();
  let result = "";
  for (let i = 0; i < HOSTS.length; i++) {
    const name = HOSTS[i];
    const matches = host.endsWith(name) && (host.length == name.length || host.charCodeAt(host.length - name.length - 1) == 0x2e);
    if (matches && name.length > result.length) result = name;
  }
  c.retString(result.length > 0 ? result : HOSTS[0]);
});
