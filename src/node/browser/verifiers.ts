/**
 * The native twin of verify-sig for the browser node, bound (as on the Node peer) to
 * the code hash of the verify-sig wasm psiweb builds: the twin only stands in for the
 * exact module whose behaviour it mirrors, so a chain running another verify-sig gets
 * that module's verdicts. The wasm ships with the PWA (and is precached).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import verifySigUrl from '../../../services/build/verify-sig.wasm?url';
import { sigVerifier } from '../../chain/sig-verifier.ts';
import type { NativeVerifier } from '../../chain/verify.ts';

export async function browserNativeVerifiers(): Promise<NativeVerifier[]> {
  const res = await fetch(verifySigUrl);
  if (!res.ok) return [];
  return [sigVerifier(sha256(new Uint8Array(await res.arrayBuffer())))];
}
