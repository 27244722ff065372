/**
 * Browsers joining a network's producer set (issue 11 §3), with psibase's own actions:
 *
 * - A browser that offers to produce makes a non-extractable P-256 WebCrypto key and an
 *   account for it (open registration: `registrar` sends `auth-sig::newAccount`), then
 *   registers as a candidate (`producers::regCandidate`, its claim the verify-sig key),
 *   signed with that key.
 * - The network's creator, whose producer account owns `producers` (create-network.ts
 *   boots it so: auth-delg setOwner), names the candidates it accepts and the mode with
 *   `producers::setConsensus`, signed with its own producer key. The chain then goes
 *   through joint consensus into the new set, as psibase's does.
 *
 * Candidates are read from the producers service's table 0 (CandidateInfo) in the chain's
 * state, as psibase's producers service keeps them.
 */
import type { Chain } from '../../chain/executor.ts';
import { sign, type KeyPair } from '../../crypto/keys.ts';
import { PsiwebError } from '../../errors.ts';
import { FracSchema } from '../../protocol/fracpack/index.ts';
import { protocolSchema } from '../../protocol/schema.ts';
import { accountName, accountNumber } from '../../protocol/names.ts';
import { taposRef } from '../../protocol/tapos.ts';
import { packSignedTransaction, packTransaction } from '../../protocol/types.ts';
import { toHex } from '../../state/bytes.ts';
import { DbId, dbKey } from '../../vm/dbs.ts';
import { action, DEVNET_REGISTRAR } from '../devnet-genesis.ts';

/** A request about the producer set that cannot be met (no chain yet, an unknown candidate, a bad name). */
export class ProducerSetError extends PsiwebError {
  override name = 'ProducerSetError';
}

/** How long a producer-set transaction may wait for its block (seconds). */
export const PRODUCER_TX_LIFETIME_SEC = 120n;
/** The verify service of a browser's claim: its DER public key, r‖s over sha256. */
const VERIFY_SIG = 'verify-sig';

export interface Candidate {
  name: string;
  endpoint: string;
  /** The claim's verify service and its raw data (the DER public key), hex. */
  claim: { service: string; rawData: string };
}

/** TaPoS and expiration against the chain's head. */
function taposOf(chain: Chain): { expiration: bigint; flags: number; refBlockIndex: number; refBlockSuffix: number } {
  const head = chain.head;
  if (!head) throw new ProducerSetError('the network has no chain yet');
  return { expiration: head.time / 1_000_000n + PRODUCER_TX_LIFETIME_SEC, flags: 0, ...taposRef(head.num, head.id) };
}

/** A producer name for a browser: `p-` and eight random base-36 characters (psibase account rules: a letter first, [a-z0-9-]). */
export function newProducerName(random: () => number = Math.random): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += Math.floor(random() * 36).toString(36);
  return `p-${s}`;
}

/**
 * The two transactions of an offer to produce: the account `name` with `key` as its
 * auth-sig key (sent by open registration, unsigned), then its candidacy, signed by it.
 */
export async function candidateTransactions(chain: Chain, name: string, key: KeyPair): Promise<[Uint8Array, Uint8Array]> {
  const tapos = taposOf(chain);
  const keyHex = toHex(key.publicKeyDer);
  const account = packSignedTransaction({
    transaction: packTransaction({ tapos, actions: [action(DEVNET_REGISTRAR, 'auth-sig', 'newAccount', { name, key: keyHex })], claims: [] }),
    proofs: [],
    subjectiveData: null,
  });
  const candidacy = packTransaction({
    tapos,
    actions: [action(name, 'producers', 'regCandidate', { endpoint: '', claim: { service: VERIFY_SIG, rawData: keyHex } })],
    claims: [{ service: accountNumber(VERIFY_SIG), rawData: key.publicKeyDer }],
  });
  return [account, packSignedTransaction({ transaction: candidacy, proofs: [await sign(key, candidacy)], subjectiveData: null })];
}

/** The candidates registered on the chain (producers table 0), by account. */
export function readCandidates(chain: Chain): Candidate[] {
  const prefix = new Uint8Array(11);
  const view = new DataView(prefix.buffer);
  view.setBigUint64(0, accountNumber('producers'));
  view.setUint16(8, 0); // table 0, primary index 0
  const start = dbKey(DbId.service, prefix);
  const out: Candidate[] = [];
  const reader = chain.state.reader;
  let key = start;
  for (;;) {
    const e = reader.greaterEqual(key, start.length);
    if (!e) break;
    out.push(unpackCandidate(e.value));
    key = new Uint8Array(e.key.length + 1);
    key.set(e.key);
  }
  return out;
}

/** psibase's CandidateInfo {account, endpoint, claim} (an extensible struct). */
const candidateCodec = new FracSchema({ ...protocolSchema, CandidateInfo: { Object: { account: 'AccountNumber', endpoint: 'string', claim: 'Claim' } } }, { mode: 'native' }).type('CandidateInfo');

function unpackCandidate(bytes: Uint8Array): Candidate {
  try {
    const row = candidateCodec.decode(bytes) as { account: bigint; endpoint: string; claim: { service: bigint; rawData: Uint8Array } };
    return { name: accountName(row.account), endpoint: row.endpoint, claim: { service: accountName(row.claim.service), rawData: toHex(row.claim.rawData) } };
  } catch (e) {
    throw new ProducerSetError(`a candidate row that does not unpack: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * `producers::setConsensus` naming `producers` (each a registered candidate, or this
 * browser's own producer with `ownKey`) in `mode`, signed by the owner of `producers`
 * (`owner`, whose auth-sig key is `ownKey`).
 */
export async function setProducersTransaction(chain: Chain, mode: 'cft' | 'bft', producers: readonly string[], owner: string, ownKey: KeyPair): Promise<Uint8Array> {
  if (producers.length === 0) throw new ProducerSetError('a producer set needs at least one producer');
  const candidates = new Map(readCandidates(chain).map((c) => [c.name, c]));
  const prods = producers.map((name) => {
    if (name === owner) return { name, auth: { service: VERIFY_SIG, rawData: toHex(ownKey.publicKeyDer) } };
    const c = candidates.get(name);
    if (!c) throw new ProducerSetError(`${name} is not a registered candidate`);
    return { name, auth: c.claim };
  });
  const variant = mode === 'bft' ? 'BftConsensus' : 'CftConsensus';
  const transaction = packTransaction({
    tapos: taposOf(chain),
    actions: [action('producers', 'producers', 'setConsensus', { consensus: { [variant]: { producers: prods } } })],
    claims: [{ service: accountNumber(VERIFY_SIG), rawData: ownKey.publicKeyDer }],
  });
  return packSignedTransaction({ transaction, proofs: [await sign(ownKey, transaction)], subjectiveData: null });
}
