/** Messages between the node worker and its signature checker (verify-worker.ts). */

export interface VerifyItem {
  /** DER SubjectPublicKeyInfo (the claim's rawData). */
  key: Uint8Array;
  data: Uint8Array;
  proof: Uint8Array;
}

export interface VerifyRequest {
  id: number;
  items: VerifyItem[];
}

/** A verdict, or why `verify` rejected (a malformed key), which fails the proof with that message. */
export type VerifyResult = { ok: boolean } | { error: string; name: string };

export interface VerifyReply {
  id: number;
  results: VerifyResult[];
}
