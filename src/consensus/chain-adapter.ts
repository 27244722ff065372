/**
 * The consensus state machines' keys over src/crypto: `p256Signer` (Signer) and
 * `ProducerKeys` (Verifier), keyed by the producers' auth claims from `newConsensus`.
 *
 * What is signed is psibase's own preimage (the state machine hands it over): a
 * block's BlockSignatureInfo (00 ce a8 'B' ‖ block id), or a message's type byte ‖
 * fracpack. The key signs sha256 of it, which is what the producer's verify service
 * checks, so these signatures are psinode's.
 *
 * Verification is synchronous inside `step()` (noble's `verifyHash`), not done ahead
 * of `step()` by the caller: which signatures a message needs checked (the prepares
 * inside a view change, the commits inside a block's BlockConfirm, against the
 * producer set that governs that block) is decided by the state machine's own rules,
 * and a caller checking them first would have to repeat those rules. Commit checks
 * are remembered (node.ts): they come back in BlockConfirms.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { verifyHash } from '../crypto/keys.ts';
import { signP256Hash } from '../crypto/p256.ts';
import { accountName } from '../protocol/names.ts';
import type { Claim, Consensus } from '../protocol/types.ts';
import { hexOf, producerSetOf, producersOf } from './block.ts';
import type { ProducerName, ProducerSet, Signer, Verifier } from './types.ts';

export { producersOf } from './block.ts';

/** psibase `Consensus` → the mode, names and claims the state machines read. */
export function projectConsensus(c: Consensus): ProducerSet {
  return producerSetOf(c);
}

/** The 32-byte digest a producer's key signs for `data`: sha256 of psibase's preimage. */
export function signingDigest(data: Uint8Array): Uint8Array {
  return sha256(data);
}

/**
 * Signs with a P-256 private scalar (deterministic RFC 6979 through noble), so the
 * consensus signature of a block equals the one the executor's prover puts in it.
 */
export function p256Signer(scalar: Uint8Array): Signer {
  const key = new Uint8Array(scalar);
  return { sign: (data) => signP256Hash(key, signingDigest(data)) };
}

/** Signs as a producer whose claim is empty: psibase requires an empty signature then. */
export const unsignedSigner: Signer = { sign: () => new Uint8Array(0) };

/**
 * Producers' keys from their auth claims (the claim's rawData is the DER public key
 * verify-sig checks). Keys are added from the genesis set and from each validated
 * block's `newConsensus`; a producer's earlier keys stay accepted, which matters only
 * if a producer rotates its key (then its old key can still sign consensus messages
 * until this object is rebuilt).
 */
export class ProducerKeys implements Verifier {
  private readonly claims = new Map<ProducerName, Claim[]>();

  constructor(initial?: Consensus) {
    if (initial) this.add(initial);
  }

  add(c: Consensus): void {
    for (const p of producersOf(c)) {
      const name = accountName(p.name);
      const known = this.claims.get(name) ?? [];
      if (!known.some((k) => k.service === p.auth.service && hexOf(k.rawData) === hexOf(p.auth.rawData))) known.push(p.auth);
      this.claims.set(name, known);
    }
  }

  verify(producer: ProducerName, data: Uint8Array, signature: Uint8Array): boolean {
    const claims = this.claims.get(producer);
    if (!claims) return false;
    let digest: Uint8Array | undefined;
    for (const claim of claims) {
      // psibase: a producer with no claim signs nothing, and its signature must be empty.
      if (claim.service === 0n) {
        if (signature.length === 0) return true;
        continue;
      }
      digest ??= signingDigest(data);
      try {
        if (verifyHash(claim.rawData, digest, signature)) return true;
      } catch {
        // A malformed key in a claim verifies nothing.
      }
    }
    return false;
  }
}
