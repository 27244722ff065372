/**
 * Proof verification (psibase BlockContext::verifyProof, TransactionContext::
 * execVerifyProof, VerifyProver): each claim's verify service runs `verifySys(VerifyArgs)`
 * in its own verify-mode context against the state before the block, with no database
 * access. A proof is valid when that action succeeds.
 *
 * Wasm calls are synchronous and WebCrypto is asynchronous, so verification is split:
 * every claim whose verify service has a registered native verifier (matched by code
 * hash, so it is exactly the wasm the verifier reimplements) is checked through a
 * promise, the rest run the wasm; a whole block's proofs are checked before any of its
 * transactions execute, with all native checks in flight at once.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { accountName } from '../protocol/names.ts';
import type { Claim, Transaction } from '../protocol/types.ts';
import { toHex } from '../state/bytes.ts';
import { WriteOverlay } from '../state/overlay.ts';
import type { KvReader } from '../state/types.ts';
import type { Limits, ServiceHost, ServiceCode } from '../vm/index.ts';
import { ServiceError } from '../vm/errors.ts';
import { CodeFlags } from '../vm/execution.ts';
import { VERIFY_SYS } from './constants.ts';
import { NativeTable, NativeTables, pack } from './native-tables.ts';

/** Everything a verify service sees: VerifyArgs, plus the signed bytes for WebCrypto. */
export interface ProofToCheck {
  /** sha256 of `data`: the transaction id, or the hash of BlockSignatureInfo. */
  hash: Uint8Array;
  /** The signed bytes (the packed Transaction), which WebCrypto hashes itself. */
  data: Uint8Array;
  claim: Claim;
  proof: Uint8Array;
}

/**
 * A host implementation of one verify service's wasm. It must accept exactly the
 * proofs the wasm accepts; it is used only for services whose code hash is `codeHash`.
 */
export interface NativeVerifier {
  codeHash: Uint8Array;
  verify(proof: ProofToCheck): Promise<boolean>;
}

export interface VerifierDeps {
  host: ServiceHost;
  /** Code of a service at the given state (the executor's code cache). */
  codeFor: (state: KvReader, service: bigint) => ServiceCode | undefined;
  nativeVerifiers: ReadonlyMap<string, NativeVerifier>;
  limits?: Partial<Limits> | undefined;
}

/** undefined = valid; otherwise the error message psibase would put in the trace. */
export type ProofResult = string | undefined;

/**
 * Runs the claim's verify service in wasm, synchronously. A CacheMissError escapes
 * (the caller loads and retries); any other failure is the returned message.
 */
export function verifyInWasm(deps: VerifierDeps, state: KvReader, p: ProofToCheck): ProofResult {
  const rawData = pack.verifyArgs({ transactionHash: p.hash, claim: p.claim, proof: p.proof });
  const action = { sender: 0n, service: p.claim.service, method: VERIFY_SYS, rawData };
  const wasm = new NativeTables(state).wasmConfig(NativeTable.proofWasmConfig);
  const tx = deps.host.transaction({
    state: new WriteOverlay(state),
    codeFor: (s) => deps.codeFor(state, s),
    mode: 'verify',
    producing: true,
    limits: { ...deps.limits, maxServices: wasm.numExecutionMemories },
  });
  try {
    const { error } = tx.runAction(action);
    if (error) return error.message;
    if (tx.subjectiveDataOut.length > 0) return 'proof called a subjective service';
    return undefined;
  } finally {
    tx.close();
  }
}

/** A prepared check: either settled synchronously or a promise from a native verifier. */
export type PendingProof = ProofResult | Promise<ProofResult>;

/**
 * Starts checking one proof. The code lookup (and, without a native verifier, the
 * wasm run) is synchronous and may throw CacheMissError; the native check is a promise.
 */
export function startProof(deps: VerifierDeps, state: KvReader, p: ProofToCheck): PendingProof {
  const code = deps.codeFor(state, p.claim.service);
  return startNativeProof(deps, code, p) ?? verifyInWasm(deps, state, p);
}

/**
 * The native check startProof makes of `p` when the claim's verify service has code
 * `code` (what deps.codeFor gives at the state checked against), or undefined when that
 * code has no native verifier (startProof then runs the wasm).
 */
export function startNativeProof(deps: VerifierDeps, code: ServiceCode | undefined, p: ProofToCheck): Promise<ProofResult> | undefined {
  const native = code?.codeHash && deps.nativeVerifiers.get(toHex(code.codeHash));
  if (!native || !code || !((code.flags ?? 0n) & CodeFlags.isVerify)) return undefined;
  return native.verify(p).then(
    (ok) => (ok ? undefined : `service '${accountName(p.claim.service)}' aborted with message: signature invalid`),
    (e: unknown) => `service '${accountName(p.claim.service)}' aborted with message: ${(e as Error).message}`,
  );
}

/** The proofs of one transaction as checks, or an error when they cannot pair with its claims. */
export function transactionProofs(
  packed: Uint8Array,
  trx: Transaction,
  proofs: readonly Uint8Array[],
  id: Uint8Array = sha256(packed),
): ProofToCheck[] {
  if (proofs.length !== trx.claims.length) throw new ServiceError('proofs and claims must have same size');
  return trx.claims.map((claim, i) => ({ hash: id, data: packed, claim, proof: proofs[i]! }));
}
