/**
 * Signed token transfers on a devnet's real AssemblyScript services, for the chain
 * benchmark (src/node/chain.bench.ts, setup `as`): the devnet's services and boot
 * (without block signing, so any producer name can build the bench's blocks), then
 * alice → bob transfers of one token, each signed with alice's dev key through
 * verify-sig (its native twin checks them) and referencing the genesis block by TaPoS,
 * as transact requires once boot has finished.
 */
import { Chain } from '../chain/executor.ts';
import type { GenesisService } from '../chain/native-tables.ts';
import type { NativeVerifier } from '../chain/verify.ts';
import { sign, type KeyPair } from '../crypto/keys.ts';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import { taposRef } from '../protocol/tapos.ts';
import { packTransaction, type SignedTransaction } from '../protocol/types.ts';
import { MemoryStore, StateDb } from '../state/index.ts';
import { devnetBootTransactions, devnetKey, loadDevnet, type Devnet } from './devnet.ts';
import { packActionArgs } from './schemas.ts';

export interface TransferSetup {
  name: string;
  services(): Promise<GenesisService[]>;
  nativeVerifiers(services: GenesisService[]): NativeVerifier[];
  initTransactions(): Promise<SignedTransaction[]>;
  transfer(i: number, expiration: bigint): Promise<SignedTransaction>;
}

/**
 * `genesisTime` and `producer` must be what the benchmark boots with: the transfers
 * reference the genesis block, whose id follows from them.
 */
export function devnetTransferSetup(genesisTime: bigint, producer: bigint): TransferSetup {
  const bootExpiration = genesisTime / 1_000_000n + 60n;
  let devnet: Devnet | undefined;
  let tapos: { refBlockIndex: number; refBlockSuffix: number } | undefined;
  let key: KeyPair | undefined;
  const load = async () => (devnet ??= await loadDevnet());
  return {
    name: 'AssemblyScript services',
    services: async () => (await load()).services,
    nativeVerifiers: () => devnet!.nativeVerifiers,
    initTransactions: async () => devnetBootTransactions(await load(), bootExpiration, { signBlocks: false }),
    async transfer(i, expiration) {
      // Boot is deterministic, so a scratch boot in memory gives the genesis block's id.
      if (!tapos) {
        const d = await load();
        const chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: d.nativeVerifiers });
        const genesis = await chain.boot({ services: d.services, producer, time: genesisTime, initTransactions: await this.initTransactions() });
        tapos = taposRef(genesis.block.block.header.blockNum, genesis.id);
      }
      key ??= await devnetKey('alice');
      const transaction = packTransaction({
        tapos: { expiration, flags: 0, ...tapos },
        actions: [
          {
            sender: accountNumber('alice'),
            service: accountNumber('tokens'),
            method: methodNumber('transfer'),
            rawData: packActionArgs('tokens', 'transfer', { to: 'bob', amount: '1', memo: String(i) }),
          },
        ],
        claims: [{ service: accountNumber('verify-sig'), rawData: key.publicKeyDer }],
      });
      return { transaction, proofs: [await sign(key, transaction)], subjectiveData: null };
    },
  };
}
