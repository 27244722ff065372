/**
 * The native twin of psibase's `verify-sig` service (VerifySig): the claim's rawData is
 * a DER SubjectPublicKeyInfo, the proof an r‖s signature over sha256 of the signed bytes.
 * P-256 goes through WebCrypto, which is what makes a block's signatures cheap to check;
 * secp256k1 through noble. Registered by the code hash of the verify-sig wasm it mirrors.
 */
import { verify } from '../crypto/keys.ts';
import type { NativeVerifier } from './verify.ts';

export function sigVerifier(codeHash: Uint8Array): NativeVerifier {
  return {
    codeHash,
    // A malformed key rejects (DecodeError), which fails the proof as the wasm's abort does.
    verify: (p) => verify(p.claim.rawData, p.data, p.proof),
  };
}
