/**
 * Shape checks for messages from peers. Anything that does not match the wire types
 * exactly is rejected with a reason before the state machine looks at it, so a
 * malformed message can never throw inside `step` or change state.
 */
import { MAX_BLOCK_PAYLOAD_CHARS } from './constants.ts';
import type {
  BlockProof,
  ConsensusMessage,
  PreparedCertificate,
  ProducerSet,
  SignedBlock,
  ViewChangeMessage,
  VoteMessage,
} from './types.ts';

type Obj = Record<string, unknown>;

const MAX_NUM = 0xffff_ffff;
const MAX_LIST = 1024;

function isObj(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= MAX_NUM;
}
function isTime(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}
/** Names, ids and payloads: short printable strings without the encoding separators. */
function isText(x: unknown, max = 128): x is string {
  if (typeof x !== 'string' || x.length === 0 || x.length > max) return false;
  // ASCII by hand (this runs on every message); anything else through the regex, for \s's Unicode spaces.
  for (let i = 0; i < x.length; i++) {
    const c = x.charCodeAt(i);
    if (c > 0x7f) return !/[|,:\s]/.test(x);
    if (c === 0x7c || c === 0x2c || c === 0x3a || c === 0x20 || (c >= 0x09 && c <= 0x0d)) return false;
  }
  return true;
}
/** 64 lowercase hex digits. A char loop: every vote carries one, and a regex here was a top cost. */
function isId(x: unknown): x is string {
  if (typeof x !== 'string' || x.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = x.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}
function isSig(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= 1024;
}

function checkSet(x: unknown): ProducerSet | undefined {
  if (!isObj(x) || (x.mode !== 'cft' && x.mode !== 'bft') || !Array.isArray(x.producers)) return undefined;
  if (x.producers.length > MAX_LIST || !x.producers.every((p) => isText(p))) return undefined;
  if (new Set(x.producers).size !== x.producers.length) return undefined;
  return x as unknown as ProducerSet;
}

function checkHeader(x: unknown): string | undefined {
  if (!isObj(x)) return 'header is not an object';
  if (!isCount(x.num) || x.num < 1) return 'bad block number';
  if (!isId(x.previous)) return 'bad previous id';
  if (!isText(x.producer)) return 'bad producer';
  if (!isCount(x.term)) return 'bad term';
  if (!isTime(x.time)) return 'bad time';
  if (!isCount(x.commitNum)) return 'bad commitNum';
  if (x.newConsensus !== undefined && !checkSet(x.newConsensus)) return 'bad newConsensus';
  if (!isText(x.payload, MAX_BLOCK_PAYLOAD_CHARS)) return 'bad payload';
  return undefined;
}

function checkVote(x: unknown, type: VoteMessage['type']): x is VoteMessage {
  return (
    isObj(x) &&
    x.type === type &&
    isCount(x.term) &&
    isText(x.producer) &&
    (x.type === 'vote' ? isText(x.subject) : isId(x.subject)) &&
    isCount(x.value) &&
    isSig(x.signature)
  );
}

function checkCert(x: unknown): x is PreparedCertificate {
  return (
    isObj(x) &&
    isId(x.blockId) &&
    isCount(x.term) &&
    isCount(x.num) &&
    Array.isArray(x.prepares) &&
    x.prepares.length <= MAX_LIST &&
    x.prepares.every((p) => checkVote(p, 'prepare'))
  );
}

function checkViewChange(x: unknown): x is ViewChangeMessage {
  return (
    isObj(x) &&
    x.type === 'viewChange' &&
    isCount(x.term) &&
    isText(x.producer) &&
    (x.prepared === undefined || checkCert(x.prepared)) &&
    isSig(x.signature)
  );
}

function checkProof(x: unknown): x is BlockProof {
  if (!isObj(x)) return false;
  const { viewChanges, commits } = x;
  if (viewChanges !== undefined && !(Array.isArray(viewChanges) && viewChanges.length <= MAX_LIST && viewChanges.every(checkViewChange)))
    return false;
  if (commits !== undefined && !(Array.isArray(commits) && commits.length <= MAX_LIST && commits.every((c) => checkVote(c, 'commit'))))
    return false;
  return true;
}

function checkBlock(x: unknown): string | undefined {
  if (!isObj(x)) return 'block is not an object';
  const bad = checkHeader(x.header);
  if (bad) return bad;
  if (!isSig(x.signature)) return 'bad block signature field';
  if (x.proof !== undefined && !checkProof(x.proof)) return 'bad block proof';
  return undefined;
}

/** The message, or the reason it is malformed. */
export function parseMessage(x: unknown): ConsensusMessage | string {
  if (!isObj(x) || typeof x.type !== 'string') return 'not a consensus message';
  switch (x.type) {
    case 'block': {
      const bad = checkBlock(x.block);
      return bad ?? (x as unknown as { type: 'block'; block: SignedBlock });
    }
    case 'confirm':
      return isCount(x.term) && isText(x.producer) && isCount(x.blockNum) && isId(x.blockId) && isSig(x.signature)
        ? (x as unknown as ConsensusMessage)
        : 'malformed confirm';
    case 'requestVote':
      return isCount(x.term) && isText(x.producer) && isCount(x.lastTerm) && isCount(x.lastNum) && isSig(x.signature)
        ? (x as unknown as ConsensusMessage)
        : 'malformed requestVote';
    case 'vote':
    case 'prepare':
    case 'commit':
      return checkVote(x, x.type) ? x : `malformed ${x.type}`;
    case 'viewChange':
      return checkViewChange(x) ? x : 'malformed viewChange';
    case 'requestBlocks':
      return isId(x.id) && isCount(x.count) && x.count >= 1 ? (x as unknown as ConsensusMessage) : 'malformed requestBlocks';
    default:
      return `unknown message type`;
  }
}
