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
import { ONE_SECOND_US } from './constants.ts';
import { Chain } from './executor.ts';
import type { GenesisService } from './native-tables.ts';
import { sigVerifier } from './sig-verifier.ts';
import { VERIFIER_WAT, testServices, transferAction, wat2wasm } from './test-kit.ts';
import type { NativeVerifier } from './verify.ts';
import { devnetTransferSetup } from '../node/devnet-transfers.ts';

const BLOCK_SIZE = 1000;
const BLOCKS = 4;
const PRODUCER = accountNumber('prod');
const T0 = 1_700_000_000_000_000n;
/** The target for signed token transfers with the real services. */
const TRANSFER_TARGET = { op: '>=' as const, value: 3000, text: '≥ 3,000/s' };

export interface ChainBenchSetup {
  name: string;
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
  as: () => devnetTransferSetup(T0, PRODUCER),
};

const bench: BenchFile = async () => {
  const choices = process.env.PSIWEB_CHAIN_BENCH ? [process.env.PSIWEB_CHAIN_BENCH] : ['as', 'wat'];
  const figures: Figure[] = [];
  for (const choice of choices) {
    const make = SETUPS[choice];
    if (!make) throw new Error(`unknown PSIWEB_CHAIN_BENCH setup ${choice}; have ${Object.keys(SETUPS).join(', ')}`);
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
    for (let b = 0; b < BLOCKS; b++) {
      const trxs = await Promise.all(Array.from({ length: BLOCK_SIZE }, (_, i) => setup.transfer(b * BLOCK_SIZE + i, expiration)));
      let t0 = performance.now();
      const produced = await producer.chain.produceBlock({ producer: PRODUCER, transactions: trxs });
      produceBest = Math.min(produceBest, performance.now() - t0);
      if (produced.rejected.length > 0) throw new Error(`bench transactions rejected: ${produced.rejected[0]!.error.message}`);
      t0 = performance.now();
      await validator.chain.applyBlock(produced.bytes);
      applyBest = Math.min(applyBest, performance.now() - t0);
    }
    const figures: Figure[] = [
      figure(`chain: build + commit a block of ${BLOCK_SIZE} signed transfers (${setup.name}, lmdb)`, 'node', produceBest, 'ms'),
      figure(`chain: signed transfers produced/s (${setup.name}, P-256 via WebCrypto)`, 'node', (BLOCK_SIZE / produceBest) * 1000, '/s'),
      figure(
        `chain: signed transfers applied/s, block validation (${setup.name}, P-256 via WebCrypto)`,
        'node',
        (BLOCK_SIZE / applyBest) * 1000,
        '/s',
        withTarget ? TRANSFER_TARGET : undefined,
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
