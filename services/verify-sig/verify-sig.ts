// psibase's `verify-sig` system service (VerifySig): checks one transaction signature.
//
//   verifySys(transactionHash: Checksum256, claim: Claim, proof: u8[])
//
// claim.rawData is the signer's public key, a DER SubjectPublicKeyInfo (spki.ts);
// proof is the ECDSA signature r‖s, 64 bytes (IEEE 1363, Botan's
// Signature_Format::Standard); the ECDSA message digest is transactionHash itself,
// not a hash of it (VerifySig verifies with Botan's "Raw" EMSA). High-s signatures are
// valid: Botan does not require low s. The action returns nothing and aborts when the
// proof does not hold: "signature invalid" for a signature that does not verify, a
// message naming the problem for a key that cannot be used.
//
// Fidelity to psibase. VerifySig loads keys with Botan 3.1.1's X509::load_key, built
// with only the ECDSA module, which is more permissive than this service on inputs no
// psibase tool writes: BER length forms and bytes after the SPKI, explicit curve
// parameters, other named curves (P-384, P-521, brainpool, …), the hybrid point form
// 0x06/0x07, coordinates of other lengths, and a one-byte point that Botan reads as
// the point at infinity (a key for which anyone can forge signatures). This service
// accepts exactly what psiweb's native twin of it accepts (src/chain/sig-verifier.ts
// through src/crypto): P-256 and secp256k1 named-curve keys, SEC 1 compressed or
// uncompressed. On those keys the verdicts are Botan's.

import { abortWith, currentAction, methodNumber, ObjectReader } from "../sdk";
import { curveK1, curveP256, decodePoint, verify } from "./ecdsa";
import { CURVE_P256, parsePublicKey } from "./spki";

const HASH_BYTES = 32;
const SIGNATURE_BYTES = 64;

/** The decoded public key, a Jacobian point (X, Y, Z). */
const KEY_POINT: usize = memory.data(96);

// psibase's VerifySig does nothing on start (its C++ constructors ran at build time).
export function start(thisService: u64): void {}

export function called(thisService: u64, sender: u64): void {
  const act = currentAction();
  // VerifySig has a single action and answers any other with this message.
  if (act.method != methodNumber("verifySys")) abortWith("Unknown action");

  // VerifyArgs{transactionHash, claim, proof} (psibase serviceEntry.hpp), an
  // extensible struct; Checksum256 is 32 bytes inline, Claim{service, rawData} is
  // an extensible struct of its own.
  const args = ObjectReader.struct(act.rawData);
  const hash = args.raw(HASH_BYTES);
  const claim = args.struct();
  claim.u64();
  const keyDer = claim.bytes();
  claim.done();
  const proof = args.bytes();
  args.done();

  // The key is loaded before the signature is looked at, as VerifySig does.
  const key = parsePublicKey(keyDer);
  const curve = key.curve == CURVE_P256 ? curveP256() : curveK1();
  if (!decodePoint(KEY_POINT, key.point, curve)) abortWith("public key is not a point on " + curve.name);

  const valid = proof.length == SIGNATURE_BYTES && verify(curve, KEY_POINT, hash.dataStart, proof.dataStart);
  if (!valid) abortWith("signature invalid");
}
