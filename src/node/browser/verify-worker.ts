/// <reference lib="webworker" />
/**
 * The node worker's signature checker (verifiers.ts). WebCrypto's P-256 verify runs on
 * the calling thread in Chromium (measured: ~0.1 ms of the node worker's time per
 * signature, a fifth of a busy sync), so the node hands its proofs to this worker and
 * re-executes the block's transactions meanwhile. It runs the very `verify` the node
 * would run itself, so the verdicts are the same.
 */
import { verify } from '../../crypto/keys.ts';
import type { VerifyReply, VerifyRequest, VerifyResult } from './verify-protocol.ts';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (e: MessageEvent<VerifyRequest>) => {
  const { id, items } = e.data;
  const results = await Promise.all(
    items.map((i): Promise<VerifyResult> =>
      verify(i.key, i.data, i.proof).then(
        (ok) => ({ ok }),
        (err: unknown) => ({ error: (err as Error).message ?? String(err), name: (err as Error).name ?? 'Error' }),
      ),
    ),
  );
  self.postMessage({ id, results } satisfies VerifyReply);
};
