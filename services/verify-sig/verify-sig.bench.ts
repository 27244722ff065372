/**
 * Time per signature check of the verify-sig wasm, the fastest of a few hundred runs.
 * Not a test: it asserts nothing.
 * Run it with `npx tsx services/verify-sig/verify-sig.bench.ts`; the default export
 * has the shape of a `*.bench.ts` file for test/bench.ts.
 *
 * - "on the host": the way the chain runs a proof without a native verifier
 *   (src/chain/verify.ts verifyInWasm): a verify-mode transaction context, a metered
 *   instance reset to fresh, the action's fracpack arguments. "key refused" is the same
 *   path aborting on an empty key, i.e. the cost around the arithmetic.
 * - "bare": the unmetered module instantiated once, `called` in a loop; the curve
 *   constants are then computed once, not per check.
 * - noble over the hash (src/crypto verifyHash), for scale.
 */
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { fileURLToPath } from 'node:url';
import { compileService } from '../../scripts/build-services.ts';
import { pack } from '../../src/chain/native-tables.ts';
import { verifyInWasm, type ProofToCheck, type VerifierDeps } from '../../src/chain/verify.ts';
import { encodeSpki, type KeyAlgorithm } from '../../src/crypto/der.ts';
import { verifyHash } from '../../src/crypto/keys.ts';
import { accountNumber, methodNumber } from '../../src/protocol/names.ts';
import { packProtocol } from '../../src/protocol/types.ts';
import { MemoryKv, WriteOverlay } from '../../src/state/index.ts';
import { CodeFlags, ServiceHost } from '../../src/vm/index.ts';
import { figure, type BenchFile, type Figure } from '../../test/bench-kit.ts';

/**
 * Fastest single run of `fn` over `runs` runs, after a warm-up. On a shared two-core
 * machine the mean mostly measures the neighbours; the minimum is what the code costs.
 */
function fastest(fn: () => void, runs = 300): number {
  for (let i = 0; i < 100; i++) fn();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best * 1000;
}

const VERIFY_SIG = accountNumber('verify-sig');

function sample(alg: KeyAlgorithm, compressed: boolean): ProofToCheck {
  const c = alg === 'p256' ? p256 : secp256k1;
  const secret = c.utils.randomSecretKey();
  const data = new TextEncoder().encode('bench '.repeat(20));
  const hash = sha256(data);
  return {
    hash,
    data,
    claim: { service: VERIFY_SIG, rawData: encodeSpki(alg, c.getPublicKey(secret, !compressed)) },
    proof: c.sign(hash, secret, { prehash: false }),
  };
}

/** The module on its own, with just enough of psibase's `env` to run verifySys. */
function bare(code: Uint8Array, p: ProofToCheck): () => void {
  const action = packProtocol('Action', {
    sender: 0n,
    service: VERIFY_SIG,
    method: methodNumber('verifySys'),
    rawData: pack.verifyArgs({ transactionHash: p.hash, claim: p.claim, proof: p.proof }),
  });
  let memory: WebAssembly.Memory | undefined;
  const env = {
    getCurrentAction: () => action.length,
    getResult: (dest: number, size: number, offset: number) => {
      new Uint8Array(memory!.buffer, dest, size).set(action.subarray(offset, offset + size));
      return action.length;
    },
    abortMessage: (ptr: number, len: number) => {
      throw new Error(new TextDecoder().decode(new Uint8Array(memory!.buffer, ptr, len)));
    },
    writeConsole: () => {},
    setRetval: () => {},
  };
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(code)), { env });
  const exports = instance.exports as { memory: WebAssembly.Memory; start(s: bigint): void; called(s: bigint, f: bigint): void };
  memory = exports.memory;
  exports.start(VERIFY_SIG);
  return () => exports.called(VERIFY_SIG, 0n);
}

const bench: BenchFile = async () => {
  const code = await compileService('services/verify-sig/verify-sig.ts');
  const service = { code, codeHash: sha256(code), flags: CodeFlags.isVerify };
  const deps: VerifierDeps = { host: new ServiceHost(), codeFor: () => service, nativeVerifiers: new Map() };
  const state = new WriteOverlay(new MemoryKv());
  const onHost = (p: ProofToCheck) => () => {
    const error = verifyInWasm(deps, state, p);
    if (error !== undefined && p.claim.rawData.length > 0) throw new Error(error);
  };

  const figures: Figure[] = [];
  const us = (name: string, v: number) => figures.push(figure(name, 'node', v, 'µs'));
  for (const alg of ['p256', 'k1'] as const) {
    const name = alg === 'p256' ? 'P-256' : 'secp256k1';
    const p = sample(alg, false);
    const pc = sample(alg, true);
    us(`verify-sig wasm ${name} verify, on the host`, fastest(onHost(p)));
    us(`verify-sig wasm ${name} verify, compressed key, on the host`, fastest(onHost(pc)));
    us(`verify-sig wasm ${name} verify, bare`, fastest(bare(code, p)));
    us(`noble ${name} verify over the hash`, fastest(() => verifyHash(p.claim.rawData, p.hash, p.proof), 50));
  }
  const refused = { ...sample('p256', false), claim: { service: VERIFY_SIG, rawData: new Uint8Array(0) } };
  us('verify-sig wasm, key refused (cost around the arithmetic), on the host', fastest(onHost(refused)));
  return figures;
};

export default bench;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const f of await bench({ page: () => Promise.reject(new Error('no browser here')) })) {
    console.log(`${f.name}: ${f.value.toFixed(0)} ${f.unit}`);
  }
}
