/**
 * Browsers joining a network's producer set with psibase's actions (producer-set.ts): on
 * a chain booted as a browser boots a network it creates (the creator owns `producers`),
 * an offer (open-registration account + regCandidate, signed by the new WebCrypto key)
 * lists a candidate, and the creator's setConsensus names it; a setConsensus signed by
 * anyone else, or naming someone who is not a candidate, changes nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { consensusAfterHead, producersOf } from '../../chain/block-context.ts';
import { Chain } from '../../chain/executor.ts';
import { generateKeyPair, type KeyPair } from '../../crypto/keys.ts';
import { accountName, accountNumber } from '../../protocol/names.ts';
import { MemoryStore, StateDb } from '../../state/index.ts';
import { sign } from '../../crypto/keys.ts';
import { bootDevnet, loadDevnet } from '../devnet.ts';
import type { Devnet } from '../devnet-genesis.ts';
import { candidateTransactions, newProducerName, ProducerSetError, readCandidates, setProducersTransaction } from './producer-set.ts';

const BUILD_TIMEOUT_MS = 300_000;
const CREATOR = 'prod';

let devnet: Devnet;
let creatorKey: KeyPair;
beforeAll(async () => {
  creatorKey = await generateKeyPair('p256');
  const base = await loadDevnet(CREATOR);
  // The creator's producer signs with its own non-extractable key, as in a browser.
  devnet = { ...base, producerKey: creatorKey, prover: (data) => sign(creatorKey, data) };
}, BUILD_TIMEOUT_MS);

async function createdChain(): Promise<Chain> {
  const chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
  const t0 = BigInt(Math.floor(Date.now() / 1000) - 10) * 1_000_000n;
  const genesis = await bootDevnet(chain, devnet, t0, { producersOwner: CREATOR });
  expect(genesis.rejected).toEqual([]);
  return chain;
}

/** Runs `transactions` into the next block; the error of each that failed (null if it ran), or why it was left out. */
async function run(chain: Chain, transactions: Uint8Array[]): Promise<(string | null)[]> {
  const produced = await chain.produceBlock({ producer: accountNumber(CREATOR), transactions, prover: devnet.prover });
  return [...produced.traces.slice(1).map((t) => t.error ?? null), ...produced.rejected.map((r) => `rejected: ${r.error.message}`)];
}

function nextProducers(chain: Chain): string[] {
  const after = consensusAfterHead(chain.status!);
  return producersOf(after.next ? after.next.consensus : after.current).map((p) => accountName(p.name));
}

describe('browsers joining the producer set', () => {
  it('an offer lists a candidate with its key; the creator names it and its mode with setConsensus', async () => {
    const chain = await createdChain();
    const keys = [await generateKeyPair('p256'), await generateKeyPair('p256')];
    const names = [newProducerName(), newProducerName()];
    for (const [i, key] of keys.entries()) {
      const [account, candidacy] = await candidateTransactions(chain, names[i]!, key);
      expect(await run(chain, [account])).toEqual([null]);
      expect(await run(chain, [candidacy])).toEqual([null]);
    }
    const candidates = readCandidates(chain);
    expect(candidates.map((c) => c.name).sort()).toEqual([...names].sort());
    for (const [i, key] of keys.entries()) {
      const c = candidates.find((x) => x.name === names[i])!;
      expect(c.claim.service).toBe('verify-sig');
      expect(c.claim.rawData.toLowerCase()).toBe(Buffer.from(key.publicKeyDer).toString('hex'));
    }
    const set = await setProducersTransaction(chain, 'bft', [CREATOR, ...names], CREATOR, creatorKey);
    expect(await run(chain, [set])).toEqual([null]);
    expect(nextProducers(chain).sort()).toEqual([CREATOR, ...names].sort());
    const after = consensusAfterHead(chain.status!);
    expect(after.next && 'BftConsensus' in after.next.consensus.data).toBe(true);
  }, 60_000);

  it('a setConsensus signed by a key that does not own producers fails and changes nothing; an unknown candidate is refused before signing', async () => {
    const chain = await createdChain();
    const key = await generateKeyPair('p256');
    const name = newProducerName();
    for (const t of await candidateTransactions(chain, name, key)) expect(await run(chain, [t])).toEqual([null]);
    // The candidate signs it as if it owned producers.
    const forged = await setProducersTransaction(chain, 'bft', [CREATOR, name], CREATOR, key);
    const [error] = await run(chain, [forged]);
    expect(error).toMatch(/rejected: .*(signature|auth|claim|key)/i);
    expect(nextProducers(chain)).toEqual([CREATOR]);
    await expect(setProducersTransaction(chain, 'cft', [CREATOR, 'p-nobody'], CREATOR, creatorKey)).rejects.toThrow(ProducerSetError);
  }, 60_000);

  it('makes producer names psibase takes as account names', () => {
    for (let i = 0; i < 50; i++) expect(newProducerName()).toMatch(/^p-[a-z0-9]{8}$/);
  });
});
