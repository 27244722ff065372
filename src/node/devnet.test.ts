import { beforeAll, describe, expect, it } from 'vitest';
import { Chain } from '../chain/executor.ts';
import { sign } from '../crypto/keys.ts';
import { FracSchema } from '../protocol/fracpack/index.ts';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import { taposRef } from '../protocol/tapos.ts';
import { packSignedTransaction, packTransaction, protocolSchema } from '../protocol/types.ts';
import { MemoryStore, StateDb, WriteOverlay } from '../state/index.ts';
import { bootDevnet, DEVNET_SERVICES, DEVNET_TOKEN_SUPPLY, devnetKey, loadDevnet, type Devnet } from './devnet.ts';
import { CoreNode, type Clock } from '../core/node.ts';
import { devKeyScalar } from '../crypto/keys.ts';
import { p256ClaimVerifier, p256Signer } from './producer-keys.ts';
import { packActionArgs } from './schemas.ts';

// A cold services/build compiles every service first.
const BUILD_TIMEOUT_MS = 300_000;
const T0 = 1_700_000_000_000_000n;

const schema = new FracSchema({ ...protocolSchema, GetData: { Object: { site: 'AccountNumber', path: 'string', decompress: 'bool' } } }, { mode: 'native' });

let devnet: Devnet;
let chain: Chain;
let node: CoreNode;

beforeAll(async () => {
  devnet = await loadDevnet();
  chain = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
  const genesis = await bootDevnet(chain, devnet, T0);
  expect(genesis.rejected).toEqual([]);
  node = await soleProducer(chain, { now: () => Number(T0 / 1000n) + 10_000, setTimeout: () => 0, clearTimeout: () => undefined });
}, BUILD_TIMEOUT_MS);

/** The devnet's producer (prod, alone) on the node core, signing with its devnet key, as `psiweb start` runs it. */
function soleProducer(on: Chain, clock: Clock, blockIntervalMs?: number): Promise<CoreNode> {
  const transport = { sendToProducer: () => false, sendToPeer: () => false, broadcast: () => undefined };
  return CoreNode.open({
    platform: { clock, chain: on, transport },
    name: devnet.producerName,
    sign: p256Signer(devKeyScalar('p256', devnet.producerName)),
    verify: p256ClaimVerifier(),
    ...(blockIntervalMs !== undefined && { blockIntervalMs }),
  });
}

/** Runs an action against the head as a transaction would, without committing it. */
function call(service: string, method: string, rawData: Uint8Array): Uint8Array {
  const reader = chain.state.reader;
  const tx = chain.host.transaction({ state: new WriteOverlay(reader), codeFor: (s) => chain.codeFor(reader, s), mode: 'transaction' });
  try {
    const { trace, error } = tx.runAction({ sender: accountNumber('alice'), service: accountNumber(service), method: methodNumber(method), rawData });
    if (error) throw error;
    return trace.rawRetval;
  } finally {
    tx.close();
  }
}

const balance = (account: string) => schema.type('u64').decode(call('tokens', 'balance', packActionArgs('tokens', 'balance', { account }))) as bigint;

function transfer(sender: string, signer: string, amount: bigint) {
  return (async () => {
    const key = await devnetKey(signer);
    const head = chain.head!;
    const transaction = packTransaction({
      tapos: { expiration: head.time / 1_000_000n + 30n, flags: 0, ...taposRef(head.num, head.id) },
      actions: [
        { sender: accountNumber(sender), service: accountNumber('tokens'), method: methodNumber('transfer'), rawData: packActionArgs('tokens', 'transfer', { to: 'bob', amount: amount.toString(), memo: '' }) },
      ],
      claims: [{ service: accountNumber('verify-sig'), rawData: key.publicKeyDer }],
    });
    return packSignedTransaction({ transaction, proofs: [await sign(key, transaction)], subjectiveData: null });
  })();
}

describe('devnet', () => {
  it('installs every service with its flags and splits the token supply between alice and bob', () => {
    const names = DEVNET_SERVICES.map((s) => s.name);
    for (const name of names) expect(chain.codeFor(chain.state.reader, accountNumber(name)), name).toBeDefined();
    expect(chain.codeFor(chain.state.reader, accountNumber('db'))!.flags).toBe(1n);
    expect(chain.codeFor(chain.state.reader, accountNumber('verify-sig'))!.flags).toBe(2n);
    expect(balance('alice')).toBe(DEVNET_TOKEN_SUPPLY / 2n);
    expect(balance('bob')).toBe(DEVNET_TOKEN_SUPPLY / 2n);
  });

  it('has the tokens UI on sites', () => {
    const page = call('sites', 'getData', schema.type('GetData').encode({ site: accountNumber('tokens'), path: '/index.html', decompress: false }));
    expect(new TextDecoder().decode(page.subarray(4))).toContain('<script type="module" src="/app.js">');
  });

  it('produces blocks signed by prod that another node validates', async () => {
    const validator = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
    await validator.applyBlock((await chain.blockByNum(2))!);
    const produced = await node.produceBlock();
    expect(produced.block.signature.length).toBeGreaterThan(0);
    await validator.applyBlock(produced.block);
    expect(validator.head!.id).toEqual(chain.head!.id);
    // A block signed by anyone else is refused (forged on a copy of the chain: the node's is its own).
    const copy = async () => {
      const c = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
      for (let n = 2; n <= chain.head!.num; n++) await c.applyBlock((await chain.blockByNum(n))!);
      return c;
    };
    const forged = await (await copy()).produceBlock({ producer: devnet.producer, prover: async (data) => sign(await devnetKey('mallory'), data) });
    await expect((await copy()).applyBlock(forged.bytes)).rejects.toThrow(/block signature/);
  });

  it("enforces auth after boot: alice's key moves alice's tokens, bob's key cannot", async () => {
    const ok = node.submit(await transfer('alice', 'alice', 7n), { waitFor: 'applied' });
    await new Promise((r) => setTimeout(r, 50));
    await node.produceBlock();
    expect((await ok).error ?? null).toBeNull();
    expect(balance('bob')).toBe(DEVNET_TOKEN_SUPPLY / 2n + 7n);
    await expect(node.submit(await transfer('alice', 'bob', 1n))).rejects.toThrow(/Authorization for alice -> tokens::transfer failed/);
  });
});

describe('the devnet at short block intervals', () => {
  it('produces blocks 100 ms apart, several a second, each with its startBlock', async () => {
    const own = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: devnet.nativeVerifiers });
    let now = Number(T0 / 1000n);
    await bootDevnet(own, devnet, T0);
    const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined };
    const producer = await soleProducer(own, clock, 100);
    const times: bigint[] = [];
    for (let i = 0; i < 25; i++) {
      now += 100;
      const produced = await producer.produceBlock();
      times.push(produced.block.block.header.time);
    }
    expect(own.head!.num).toBe(27);
    expect(times.every((t, i) => i === 0 || t - times[i - 1]! === 100_000n)).toBe(true);
  });
});

describe('a devnet with several producers', () => {
  it('boots with the producer set and mode given (setConsensus in genesis), each producer an account with its devnet key; a block from one of them validates, from an outsider not', async () => {
    const names = ['a', 'b', 'c', 'd'];
    const booter = await loadDevnet('a');
    const multi = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: booter.nativeVerifiers });
    const genesis = await bootDevnet(multi, booter, T0, { producers: { names, mode: 'bft' } });
    expect(genesis.rejected).toEqual([]);
    const pending = multi.status!.consensus.next?.consensus ?? multi.status!.consensus.current;
    expect('BftConsensus' in pending.data).toBe(true);
    const prods = 'BftConsensus' in pending.data ? pending.data.BftConsensus.producers : [];
    expect(prods.map((p) => p.name)).toEqual(names.map((n) => accountNumber(n)));
    for (const [i, n] of names.entries()) expect(prods[i]!.auth.rawData).toEqual((await devnetKey(n)).publicKeyDer);
    // Each producer has an account whose auth-sig key is its devnet key: b can sign a transfer from b (it has no tokens: the transfer fails on balance, not on auth).
    const b = await loadDevnet('b');
    expect(b.producerName).toBe('b');
    const validator = await Chain.open({ state: new StateDb(new MemoryStore()), nativeVerifiers: booter.nativeVerifiers });
    await validator.applyBlock(genesis.bytes);
    const next = await multi.produceBlock({ producer: accountNumber('b'), prover: b.prover });
    await validator.applyBlock(next.bytes);
    const outsider = await loadDevnet('mallory');
    const forged = await multi.produceBlock({ producer: accountNumber('mallory'), prover: outsider.prover });
    await expect(validator.applyBlock(forged.bytes)).rejects.toThrow(/Invalid producer|block signature/);
  });
});
