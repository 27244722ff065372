// psibase's `auth-any` system service (packages/system/AuthAny): every transaction
// from an account using it is authorized, with or without claims. Meant for test
// chains and accounts nobody needs to protect. No tables.

import { action, Call, ObjectWriter, readAuthRequest, senderAmong } from "../sdk";
export { start, called } from "../sdk";

action("checkAuthSys", (c: Call): void => {
  // The arguments are still read in full: dispatch must refuse malformed ones.
  const args = c.args;
  readAuthRequest(args);
  const claims = args.vector();
  while (claims.more()) {
    const claim = claims.struct();
    claim.u64();
    claim.bytes();
    claim.done();
  }
  claims.done();
  c.retBool(true);
});

action("canAuthUserSys", (c: Call): void => {
  c.args.u64();
});

action("getDlgsSys", (c: Call): void => {
  c.args.u64();
  c.retStruct(ObjectWriter.vector());
});

// Only the sender itself can approve or reject on its own behalf.
action("isAuthSys", (c: Call): void => {
  c.retBool(senderAmong(c.args));
});

action("isRejectSys", (c: Call): void => {
  c.retBool(senderAmong(c.args));
});
