// psibase's `producers` system service (packages/system/Producers): sets the block
// producers and the consensus algorithm by writing the next consensus into the
// native status row; native then puts it in the next block header's newConsensus.
// It is also the auth service of `producers+2` (weak) and `producers+3` (strong),
// which act for a threshold of the current producers. Deploy with isPrivileged.
//
// Tables (psibase's numbering): 0 CandidateInfo keyed by account, 1 ProdsConfig
// {maxProds} (singleton).

import {
  abortWith, accountName, accountNumber, action, Call, check, CODE_IS_VERIFY, CodeRow, Key, KvMode, nativeDb,
  ObjectReader, ObjectWriter, PackedStruct, receiver, Row, StatusView, Table,
} from "../sdk";
import { readAuthRequest, REQUEST_MASK, RUN_AS_MATCHED_EXPANDED_REQ, RUN_AS_MATCHED_REQ, RUN_AS_OTHER_REQ, RUN_AS_REQUESTER_REQ, TOP_ACTION_REQ } from "../sdk";
export { start, called } from "../sdk";

const DEFAULT_MAX_PRODS: u8 = 13;
const PRODUCER_ACCOUNT_WEAK = accountNumber("producers+2");
const PRODUCER_ACCOUNT_STRONG = accountNumber("producers+3");

// ConsensusData variant tags.
const CFT: u8 = 0;
const BFT: u8 = 1;


class Claim {
  constructor(public service: u64, public rawData: Uint8Array) {}
  isEmpty(): bool { return this.service == 0 && this.rawData.length == 0; }
  pack(): Uint8Array { return ObjectWriter.struct().u64(this.service).bytes(this.rawData).finish(); }
  static read(r: ObjectReader): Claim {
    const s = r.struct();
    const claim = new Claim(s.u64(), s.bytes());
    s.done();
    return claim;
  }
  equals(o: Claim): bool { return this.service == o.service && sameBytes(this.rawData, o.rawData); }
}

class Producer {
  constructor(public name: u64, public auth: Claim) {}
}

class ConsensusData {
  constructor(public tag: u8, public producers: Producer[]) {}

  /** The packed variant: tag, u32 size, then CftConsensus/BftConsensus {producers}. */
  pack(): Uint8Array {
    const list = ObjectWriter.vector();
    for (let i = 0; i < this.producers.length; i++) {
      const p = this.producers[i];
      list.object(ObjectWriter.struct().u64(p.name).object(p.auth.pack()).finish());
    }
    const inner = ObjectWriter.struct().vec(list).finish();
    const out = new Uint8Array(5 + inner.length);
    out[0] = this.tag;
    store<u32>(out.dataStart + 1, <u32>inner.length);
    out.set(inner, 5);
    return out;
  }

  /** A packed variant occupying all of `data`. */
  static unpack(data: Uint8Array): ConsensusData {
    check(data.length >= 5, "fracpack: read out of bounds");
    const tag = data[0];
    check(tag == CFT || tag == BFT, "fracpack: bad variant index");
    const size = load<u32>(data.dataStart + 1);
    check(<u64>size + 5 == <u64>data.length, "fracpack: bad variant size");
    const r = ObjectReader.struct(data.slice(5));
    const producers = readProducers(r.vector());
    r.done();
    return new ConsensusData(tag, producers);
  }
}

function readProducers(v: ObjectReader): Producer[] {
  const n = v.count(4);
  const out = new Array<Producer>();
  for (let i = 0; i < n; i++) {
    const s = v.struct();
    const name = s.u64();
    out.push(new Producer(name, Claim.read(s)));
    s.done();
  }
  v.done();
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): bool {
  return a.length == b.length && memory.compare(a.dataStart, b.dataStart, <usize>a.length) == 0;
}

class CandidateInfo extends Row {
  constructor(public account: u64, public endpoint: string, public claim: Claim) { super(); }
  static key(account: u64): Uint8Array { return new Key().name(account).finish(); }
  primaryKey(): Uint8Array { return CandidateInfo.key(this.account); }
  pack(): Uint8Array { return ObjectWriter.struct().u64(this.account).str(this.endpoint).object(this.claim.pack()).finish(); }
  static unpack(data: Uint8Array): CandidateInfo {
    const r = ObjectReader.struct(data);
    const account = r.u64();
    const endpoint = r.str();
    const row = new CandidateInfo(account, endpoint, Claim.read(r));
    r.done();
    return row;
  }
}

class ProdsConfig extends Row {
  constructor(public maxProds: u8) { super(); }
  primaryKey(): Uint8Array { return new Uint8Array(0); }
  pack(): Uint8Array { return ObjectWriter.struct().u8(this.maxProds).finish(); }
  static unpack(data: Uint8Array): ProdsConfig {
    const r = ObjectReader.struct(data);
    const row = new ProdsConfig(r.u8());
    r.done();
    return row;
  }
}

const candidateTable = (): Table<CandidateInfo> => new Table<CandidateInfo>(receiver(), 0, CandidateInfo.unpack);
const configTable = (): Table<ProdsConfig> => new Table<ProdsConfig>(receiver(), 1, ProdsConfig.unpack);

function maxProds(): u8 {
  const row = configTable().get(new Uint8Array(0));
  return row === null ? DEFAULT_MAX_PRODS : row.maxProds;
}

// Consensus {data, services, wasmConfig}: offset fields at 0, 4, 8.
const CONSENSUS_OFFS: i32[] = [0, 4, 8];

function consensusData(consensus: PackedStruct): ConsensusData {
  return ConsensusData.unpack(consensus.field(0, CONSENSUS_OFFS)!);
}

function currentConsensus(status: StatusView): ConsensusData {
  const packed = status.currentConsensusPacked();
  return consensusData(new PackedStruct(packed, 0, packed.length));
}

function nextProducers(status: StatusView): Producer[] {
  const next = status.nextConsensus();
  if (next === null) return [];
  const consensus = next.sub(0, [0])!;
  return consensusData(consensus).producers;
}

/** Every claim's service must be a verify service (checkVerifyServices). */
function checkVerifyServices(producers: Producer[]): void {
  for (let i = 0; i < producers.length; i++) {
    const auth = producers[i].auth;
    if (auth.isEmpty()) continue;
    const code = CodeRow.get(auth.service);
    check(code !== null, "Unknown service account: " + accountName(auth.service));
    check((code!.flags & CODE_IS_VERIFY) != 0, "Service account " + accountName(auth.service) + " cannot be used for block production");
  }
}

function checkProducerCount(producers: Producer[]): void {
  check(producers.length > 0, "There must be at least one producer");
  const limit = maxProds();
  check(producers.length <= <i32>limit, "Maximum producers (" + limit.toString() + ") exceeded");
}

/** Schedules `data` as the next consensus, keeping the current services and wasm config. */
function setNextConsensus(status: StatusView, data: ConsensusData): void {
  const next = status.nextConsensus();
  check(next === null || next.u32(4) == status.currentBlockNum(), "Consensus update pending");
  const currentPacked = status.currentConsensusPacked();
  const current = new PackedStruct(currentPacked, 0, currentPacked.length);
  const services = current.field(4, CONSENSUS_OFFS);
  const consensus = ObjectWriter.struct()
    .object(data.pack())
    .container(services === null ? new Uint8Array(4) : services)
    .object(current.field(8, CONSENSUS_OFFS)!)
    .finish();
  const pending = ObjectWriter.struct().object(consensus).u32(status.currentBlockNum()).finish();
  const joint = ObjectWriter.struct().object(currentPacked).object(pending).finish();
  nativeDb(KvMode.readWrite).put(StatusView.key(), status.withConsensus(joint));
}

action("setConsensus", (c: Call): void => {
  // (consensus: ConsensusData): a tuple holding one variant.
  const raw = c.rawData;
  const args = new PackedStruct(raw, 0, raw.length);
  const variant = args.field(0, [0]);
  check(variant !== null, "fracpack: missing field");
  const data = ConsensusData.unpack(variant!);
  check(c.sender == receiver(), "sender must match service account");
  checkProducerCount(data.producers);
  checkVerifyServices(data.producers);
  const status = StatusView.get();
  check(status !== null, "Missing status row");
  setNextConsensus(status!, data);
});

action("setProducers", (c: Call): void => {
  const producers = readProducers(c.args.vector());
  check(c.sender == receiver(), "sender must match service account");
  checkProducerCount(producers);
  checkVerifyServices(producers);
  const status = StatusView.get();
  check(status !== null, "Missing status row");
  setNextConsensus(status!, new ConsensusData(currentConsensus(status!).tag, producers));
});

action("regCandidate", (c: Call): void => {
  const args = c.args;
  const endpoint = args.str();
  const claim = Claim.read(args);
  candidateTable().put(new CandidateInfo(c.sender, endpoint, claim));
});

function includesName(producers: Producer[], name: u64): bool {
  for (let i = 0; i < producers.length; i++) if (producers[i].name == name) return true;
  return false;
}

action("unregCand", (c: Call): void => {
  const status = StatusView.load();
  check(!includesName(currentConsensus(status).producers, c.sender), "Cannot unregister: account is an active producer");
  check(!includesName(nextProducers(status), c.sender), "Cannot unregister: account is scheduled to become a producer");
  candidateTable().erase(CandidateInfo.key(c.sender));
});

action("getProducers", (c: Call): void => {
  const producers = currentConsensus(StatusView.load()).producers;
  const v = ObjectWriter.vector();
  for (let i = 0; i < producers.length; i++) v.u64(producers[i].name);
  c.retStruct(v);
});

action("setMaxProds", (c: Call): void => {
  const limit = c.args.u8();
  check(c.sender == receiver(), "sender must match service account");
  configTable().put(new ProdsConfig(limit));
});

action("getMaxProds", (c: Call): void => {
  c.ret(ObjectWriter.fixed().u8(maxProds()).finish());
});

function threshold(data: ConsensusData, account: u64): u32 {
  const n = <u32>data.producers.length;
  if (data.tag == CFT) return account == PRODUCER_ACCOUNT_WEAK ? 1 : n / 2 + 1;
  return account == PRODUCER_ACCOUNT_WEAK ? (n + 2) / 3 : n * 2 / 3 + 1;
}

action("getThreshold", (c: Call): void => {
  const account = c.args.u64();
  check(account == PRODUCER_ACCOUNT_WEAK || account == PRODUCER_ACCOUNT_STRONG, "Invalid account");
  c.retU32(threshold(currentConsensus(StatusView.load()), account));
});

action("antiThreshold", (c: Call): void => {
  const account = c.args.u64();
  check(account == PRODUCER_ACCOUNT_WEAK || account == PRODUCER_ACCOUNT_STRONG, "Invalid account");
  const data = currentConsensus(StatusView.load());
  c.retU32(<u32>data.producers.length - threshold(data, account) + 1);
});

action("checkAuthSys", (c: Call): void => {
  const args = c.args;
  const req = readAuthRequest(args);
  const flags = req.flags;
  const sender = req.sender;
  const cv = args.vector();
  const n = cv.count(4);
  const claims = new Array<Claim>();
  for (let i = 0; i < n; i++) claims.push(Claim.read(cv));
  cv.done();
  const type = flags & REQUEST_MASK;
  if (type == RUN_AS_REQUESTER_REQ || type == RUN_AS_MATCHED_REQ) {
    c.retBool(true);
    return;
  }
  if (type == RUN_AS_MATCHED_EXPANDED_REQ) abortWith("runAs: caller attempted to expand powers");
  else if (type == RUN_AS_OTHER_REQ) abortWith("runAs: caller is not authorized");
  else if (type != TOP_ACTION_REQ) abortWith("unsupported auth type");
  const data = currentConsensus(StatusView.load());
  let matching: u32 = 0;
  for (let i = 0; i < data.producers.length; i++) {
    const expected = data.producers[i].auth;
    let ok = expected.isEmpty();
    for (let j = 0; !ok && j < claims.length; j++) ok = claims[j].equals(expected);
    if (ok) matching++;
  }
  const required: u32 = data.producers.length == 0 ? 0 : threshold(data, sender);
  c.retBool(matching >= required);
});

action("canAuthUserSys", (c: Call): void => {
  const user = c.args.u64();
  check(user == PRODUCER_ACCOUNT_STRONG || user == PRODUCER_ACCOUNT_WEAK, "Can only authorize predefined accounts");
});

action("getDlgsSys", (c: Call): void => {
  c.args.u64();
  const producers = currentConsensus(StatusView.load()).producers;
  const v = ObjectWriter.vector();
  for (let i = 0; i < producers.length; i++) v.u64(producers[i].name);
  c.retStruct(v);
});

function overlap(producers: Producer[], accounts: ObjectReader): u32 {
  const n = accounts.count(8);
  const list = new Array<u64>();
  for (let i = 0; i < n; i++) list.push(accounts.u64());
  accounts.done();
  let count: u32 = 0;
  for (let i = 0; i < producers.length; i++) if (list.includes(producers[i].name)) count++;
  return count;
}

action("isAuthSys", (c: Call): void => {
  const sender = c.args.u64();
  const data = currentConsensus(StatusView.load());
  const count = overlap(data.producers, c.args.vector());
  const required: u32 = data.producers.length == 0 ? 0 : threshold(data, sender);
  c.retBool(count >= required);
});

action("isRejectSys", (c: Call): void => {
  const sender = c.args.u64();
  const data = currentConsensus(StatusView.load());
  const count = overlap(data.producers, c.args.vector());
  if (data.producers.length == 0) {
    c.retBool(false);
    return;
  }
  c.retBool(count >= <u32>data.producers.length - threshold(data, sender) + 1);
});
