/**
 * Block executor throughput in Node on lmdb: a producer builds and commits blocks of
 * BLOCK_SIZE signed transfers (P-256 proofs checked through WebCrypto), a validator
 * applies them (verify, re-execute, commit).
 *
 * The services come from a ChainBenchSetup. `watSetup` uses the hand-written WAT
 * stand-ins (test-kit.ts) with a `verify-sig` account whose proofs are checked by the
 * native P-256 verifier; a setup built on the AssemblyScript system services (transact,
 * accounts, auth-sig, verify-sig, tokens) is `as`. Both run by default; pick one with
 * PSIWEB_CHAIN_BENCH=<name>. The target (≥ 3,000 signed transfers/s) is about
 * real token transfers, so it is checked on `as` only.
 *
 * `as` checks the P-256 proofs with verify-sig's native twin (WebCrypto, registered by
 * verify-sig's code hash); `as-wasm` is the same chain with no native verifier, so every
 * proof runs verify-sig's wasm, as a node without the twin would. Its figure has no
 * target yet. Each figure is the best of BLOCKS blocks after one untimed warm-up
 * block, on lmdb.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { figure, type BenchFile, type Figure } from '../../test/bench-kit.ts';
import { generateKeyPair, sign, type KeyPair } from '../crypto/keys.ts';
import { accountNumber } from '../protocol/names.ts';
import { packTransaction, type SignedTransaction } from '../protocol/types.ts';
import { LmdbStore } from '../state/lmdb-store.ts';
import { StateDb } from '../state/state-db.ts';
import { CodeFlags } from '../vm/execution.ts';
import { ONE_SECOND_US } from '../chain/constants.ts';
import { Chain } from '../chain/executor.ts';
import type { GenesisService } from '../chain/native-tables.ts';
import { sigVerifier } from '../chain/sig-verifier.ts';
import { VERIFIER_WAT, testServices, transferAction, wat2wasm } from '../chain/test-kit.ts';
import type { NativeVerifier } from '../chain/verify.ts';
import { nodeSigVerifier } from './node-sig-verifier.ts';
import { devnetTransferSetup } from './devnet-transfers.ts';

const BLOCK_SIZE = 1000;
const BLOCKS = 4;
const PRODUCER = accountNumber('prod');
const T0 = 1_700_000_000_000_000n;
/** The target for signed token transfers with the real services. */
const TRANSFER_TARGET = { op: '>=' as const, value: 3000, text: '≥ 3,000/s' };

export interface ChainBenchSetup {
  name: string;
  /** How proofs are checked: verify-sig's native WebCrypto twin, that twin on node:crypto (the Node peer's), or its wasm. */
  verify: 'native' | 'node' | 'wasm';
  services(): Promise<GenesisService[]>;
  nativeVerifiers(services: GenesisService[]): NativeVerifier[];
  /** Transactions run in the genesis block after the genesis transaction. */
  initTransactions?(): Promise<SignedTransaction[]>;
  /** The i-th signed transfer, unique per i, expiring at `expiration` (seconds). */
  transfer(i: number, expiration: bigint): Promise<SignedTransaction>;
}

const VERIFY_SIG = accountNumber('verify-sig');

function watSetup(): ChainBenchSetup {
  let key: KeyPair | undefined;
  const alice = accountNumber('alice');
  const bob = accountNumber('bob');
  return {
    name: 'WAT stand-ins',
    verify: 'native',
    async services() {
      // Only the native verifier runs for this account here: its wasm is a stand-in
      // (distinct code, hence a distinct code hash) for psibase's verify-sig.
      const standIn = await wat2wasm(VERIFIER_WAT.replace('"signature invalid"', '"signature invalid (verify-sig stand-in)"'));
      return [...(await testServices()), { service: VERIFY_SIG, flags: CodeFlags.isVerify, vmType: 0, vmVersion: 0, code: standIn }];
    },
    nativeVerifiers: (services) => services.filter((s) => s.service === VERIFY_SIG).map((s) => sigVerifier(sha256(s.code))),
    async transfer(i, expiration) {
      key ??= await generateKeyPair('p256');
      const transaction = packTransaction({
        tapos: { expiration, refBlockSuffix: 0, flags: 0, refBlockIndex: 0 },
        actions: [transferAction(alice, bob, BigInt(i + 1))],
        claims: [{ service: VERIFY_SIG, rawData: key.publicKeyDer }],
      });
      return { transaction, proofs: [await sign(key, transaction)], subjectiveData: null };
    },
  };
}

const SETUPS: Record<string, () => ChainBenchSetup> = {
  wat: watSetup,
  // The devnet's AssemblyScript services (src/node/devnet-transfers.ts): tokens transfers
  // through transact, auth-sig and verify-sig.
  as: () => ({ ...devnetTransferSetup(T0, PRODUCER), verify: 'native' }),
  // The same with the twin's P-256 checks on node:crypto, as the Node peer runs it.
  'as-node': () => {
    const setup = devnetTransferSetup(T0, PRODUCER);
    return { ...setup, verify: 'node', nativeVerifiers: (services: GenesisService[]) => setup.nativeVerifiers(services).map(nodeSigVerifier) };
  },
  // The same, with verify-sig's wasm checking every proof (no native twin registered).
  'as-wasm': () => ({ ...devnetTransferSetup(T0, PRODUCER), verify: 'wasm', nativeVerifiers: () => [] }),
};

const bench: BenchFile = async () => {
  const choices = process.env.PSIWEB_CHAIN_BENCH ? [process.env.PSIWEB_CHAIN_BENCH] : ['as', 'as-node', 'as-wasm', 'wat'];
  const figures: Figure[] = [];
  for (const choice of choices) {
    const make = SETUPS[choice];
    if (!make) throw new Error(`unknown PSIWEB_CHAIN_BENCH setup ${choice}; have ${Object.keys(SETUPS).join(', ')}`);
    // The target is for the native twin; the wasm figure's comes with the performance work.
    figures.push(...(await runSetup(make(), choice === 'as')));
  }
  return figures;
};

async function runSetup(setup: ChainBenchSetup, withTarget: boolean): Promise<Figure[]> {
  const services = await setup.services();
  const dirs: string[] = [];
  const open = async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psiweb-chain-bench-'));
    dirs.push(dir);
    const store = LmdbStore.open(dir);
    return { store, chain: await Chain.open({ state: new StateDb(store), nativeVerifiers: setup.nativeVerifiers(services) }) };
  };
  const producer = await open();
  const validator = await open();
  try {
    const genesis = await producer.chain.boot({
      services,
      producer: PRODUCER,
      time: T0,
      ...(setup.initTransactions && { initTransactions: await setup.initTransactions() }),
    });
    await validator.chain.applyBlock(genesis.bytes);
    const expiration = T0 / ONE_SECOND_US + 1800n;
    let produceBest = Infinity;
    let applyBest = Infinity;
    // Block 0 warms up (the services' wasm tiers up) and is not timed.
    for (let b = 0; b <= BLOCKS; b++) {
      const trxs = await Promise.all(Array.from({ length: BLOCK_SIZE }, (_, i) => setup.transfer(b * BLOCK_SIZE + i, expiration)));
      let t0 = performance.now();
      const produced = await producer.chain.produceBlock({ producer: PRODUCER, transactions: trxs });
      const produceMs = performance.now() - t0;
      if (produced.rejected.length > 0) throw new Error(`bench transactions rejected: ${produced.rejected[0]!.error.message}`);
      t0 = performance.now();
      const applied = await validator.chain.applyBlock(produced.bytes);
      const applyMs = performance.now() - t0;
      // What is timed must have happened: every transfer applied, without error.
      if (applied.traces.length < BLOCK_SIZE || applied.traces.some((t) => t.error != null)) throw new Error('the validator did not apply every transfer');
      if (b === 0) continue;
      produceBest = Math.min(produceBest, produceMs);
      applyBest = Math.min(applyBest, applyMs);
    }
    const verify = {
      native: 'native verify (WebCrypto twin of verify-sig)',
      node: 'native verify on node:crypto (the Node peer’s)',
      wasm: 'wasm verify (verify-sig run in wasm)',
    }[setup.verify];
    const how = `best of ${BLOCKS} blocks of ${BLOCK_SIZE} after 1 warm-up block, P-256 proofs, ${setup.verify} verify, lmdb`;
    const figures: Figure[] = [
      figure(`chain: build + commit a block of ${BLOCK_SIZE} signed transfers (${setup.name}, ${verify}, lmdb)`, 'node', produceBest, 'ms', undefined, how),
      figure(`chain: signed transfers produced/s (${setup.name}, ${verify})`, 'node', (BLOCK_SIZE / produceBest) * 1000, '/s', undefined, how),
      figure(
        `chain: signed transfers applied/s, block validation (${setup.name}, ${verify})`,
        'node',
        (BLOCK_SIZE / applyBest) * 1000,
        '/s',
        withTarget ? TRANSFER_TARGET : undefined,
        how,
      ),
    ];
    return figures;
  } finally {
    await producer.store.close();
    await validator.store.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export default bench;
