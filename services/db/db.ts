// psibase's `db` system service. Only privileged services may call kvOpen, so every
// other service asks `db` for a handle: `open(db: DbId, prefix: u8[], mode: KvMode)
// -> u32` checks what the sender may touch, opens the handle and exports it; the
// returned number is its index among the exported handles. Deploy with the
// isPrivileged flag.

import { abortWith, accountName, action, Call, DbId, exportKvHandles, Key, KvHandle, KvMode, ObjectReader } from "../sdk";
export { start, called } from "../sdk";

/** Native table number of CodeRow (psibase nativeTables.hpp). */
const CODE_TABLE: u16 = 2;
const CODE_FLAG_PRIVILEGED: u64 = 1;

function isWrite(mode: u8): bool {
  return mode == KvMode.write || mode == KvMode.readWrite;
}

function startsWith(data: Uint8Array, prefix: Uint8Array): bool {
  if (prefix.length > data.length) return false;
  return memory.compare(data.dataStart, prefix.dataStart, <usize>prefix.length) == 0;
}

/** Whether the sender's CodeRow (native db: table 2, index 0, account) has isPrivileged. */
function isPrivileged(account: u64): bool {
  const native = KvHandle.openDirect(DbId.native, new Uint8Array(0), KvMode.read);
  const row = native.get(new Key().u16(CODE_TABLE).u8(0).name(account).finish());
  native.close();
  if (row === null) return false;
  const r = ObjectReader.struct(row!);
  r.u64();
  return (r.u64() & CODE_FLAG_PRIVILEGED) != 0;
}

function dbName(db: u32): string {
  switch (db) {
    case DbId.service: return "service";
    case DbId.writeOnly: return "writeOnly";
    case DbId.native: return "native";
    case DbId.blockLog: return "blockLog";
    case DbId.blockProof: return "blockProof";
    case DbId.subjective: return "subjective";
    case DbId.nativeSubjective: return "nativeSubjective";
    case DbId.session: return "session";
    case DbId.nativeSession: return "nativeSession";
    case DbId.temporary: return "temporary";
  }
  return db.toString();
}

function refuseDb(sender: u64, db: u32, verb: string): void {
  abortWith(accountName(sender) + " cannot " + verb + " db " + dbName(db));
}

function refusePrefix(sender: u64, prefix: Uint8Array, verb: string): void {
  let message = accountName(sender) + " cannot " + verb + " another service's prefix";
  if (prefix.length >= 8) {
    message += ": " + accountName(bswap<u64>(load<u64>(prefix.dataStart)));
    if (prefix.length >= 10) message += ":" + bswap<u16>(load<u16>(prefix.dataStart + 8)).toString();
  }
  abortWith(message);
}

action("open", (c: Call): void => {
  const args = c.args;
  const db = args.u32();
  const prefix = args.bytes();
  const mode = args.u8();
  const sender = c.sender;
  if (db == DbId.service || db == DbId.writeOnly) {
    const owner = new Key().name(sender).finish();
    // Writers need their own account prefix; subaccounts of one account share reads.
    if (isWrite(mode)) {
      if (!startsWith(prefix, owner)) refusePrefix(sender, prefix, "write to");
    } else if (!startsWith(prefix, owner.subarray(0, 7))) {
      refusePrefix(sender, prefix, "read from");
    }
  } else if (db == DbId.native) {
    if (isWrite(mode) && !isPrivileged(sender)) refuseDb(sender, db, "write");
  } else if (db == DbId.blockLog) {
    if (isWrite(mode)) refuseDb(sender, db, "write");
  } else {
    refuseDb(sender, db, "open");
  }
  const handle = KvHandle.openDirect(<DbId>db, prefix, <KvMode>mode);
  exportKvHandles([handle]);
  handle.close();
  c.retU32(0);
});
