// Test stand-in for psibase's `accounts` service: `exists(name) -> bool` for a fixed
// set of accounts, which is all the tokens service asks of it.

import { accountNumber, action, Call } from "../../sdk";
export { start, called } from "../../sdk";

const EXISTING: string[] = ["alice", "bob", "carol", "tokens"];

action("exists", (c: Call): void => {
  const name = c.args.u64();
  let found = false;
  for (let i = 0; i < EXISTING.length; i++) if (accountNumber(EXISTING[i]) == name) found = true;
  c.retBool(found);
});
