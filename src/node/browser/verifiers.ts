/**
 * The native twin of verify-sig for the browser node, bound (as on the Node peer) to
 * the code hash of the verify-sig wasm psiweb builds: the twin only stands in for the
 * exact module whose behaviour it mirrors, so a chain running another verify-sig gets
 * that module's verdicts. The wasm ships with the PWA (and is precached).
 *
 * The signatures are checked in a worker of the node's own (verify-worker.ts), in one
 * message per batch: the proofs of a block are started together, so they travel
 * together, and the node re-executes the block while they are checked. Where no worker
 * can start, or it fails, they are checked here as before.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import verifySigUrl from '../../../services/build/verify-sig.wasm?url';
import { sigVerifier } from '../../chain/sig-verifier.ts';
import type { NativeVerifier, ProofToCheck } from '../../chain/verify.ts';
import { verify as verifyHere } from '../../crypto/keys.ts';
import { PsiwebError } from '../../errors.ts';
import { compact } from '../../state/bytes.ts';
import type { VerifyReply, VerifyRequest, VerifyResult } from './verify-protocol.ts';

export async function browserNativeVerifiers(): Promise<NativeVerifier[]> {
  const res = await fetch(verifySigUrl);
  if (!res.ok) return [];
  const codeHash = sha256(new Uint8Array(await res.arrayBuffer()));
  const checker = SignatureChecker.start();
  if (!checker) return [sigVerifier(codeHash)];
  return [{ codeHash, verify: (p) => checker.verify(p) }];
}

interface Waiting {
  key: Uint8Array;
  data: Uint8Array;
  proof: Uint8Array;
  resolve: (ok: boolean) => void;
  reject: (e: unknown) => void;
}

/** A rejection from the worker, with the message `verify` rejected with there. */
class CheckerError extends PsiwebError {
  constructor(message: string, name: string) {
    super(message);
    this.name = name;
  }
}

class SignatureChecker {
  #worker: Worker | undefined;
  #queue: Waiting[] = [];
  readonly #sent = new Map<number, Waiting[]>();
  #nextId = 1;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (e: MessageEvent<VerifyReply>) => this.#answered(e.data);
    worker.onerror = () => this.#fail();
    worker.onmessageerror = () => this.#fail();
  }

  static start(): SignatureChecker | undefined {
    if (typeof Worker === 'undefined') return undefined;
    try {
      return new SignatureChecker(new Worker(new URL('./verify-worker.ts', import.meta.url), { type: 'module', name: 'psiweb-verify' }));
    } catch {
      return undefined;
    }
  }

  verify(p: ProofToCheck): Promise<boolean> {
    if (!this.#worker) return verifyHere(p.claim.rawData, p.data, p.proof);
    return new Promise<boolean>((resolve, reject) => {
      // Compacted: a view into a block's bytes would send the whole block.
      this.#queue.push({ key: compact(p.claim.rawData), data: compact(p.data), proof: compact(p.proof), resolve, reject });
      if (this.#queue.length === 1) queueMicrotask(() => this.#send());
    });
  }

  #send(): void {
    const items = this.#queue;
    this.#queue = [];
    if (items.length === 0) return;
    if (!this.#worker) return this.#checkHere(items);
    const id = this.#nextId++;
    this.#sent.set(id, items);
    const request: VerifyRequest = { id, items: items.map(({ key, data, proof }) => ({ key, data, proof })) };
    this.#worker.postMessage(request);
  }

  #answered(reply: VerifyReply): void {
    const items = this.#sent.get(reply.id);
    if (!items) return;
    this.#sent.delete(reply.id);
    items.forEach((w, i) => settle(w, reply.results[i]));
  }

  /** The worker cannot check anything: what it holds, and everything after, is checked here. */
  #fail(): void {
    this.#worker?.terminate();
    this.#worker = undefined;
    const items = [...this.#sent.values()].flat();
    this.#sent.clear();
    this.#checkHere(items);
  }

  #checkHere(items: Waiting[]): void {
    for (const w of items) verifyHere(w.key, w.data, w.proof).then(w.resolve, w.reject);
  }
}

function settle(w: Waiting, r: VerifyResult | undefined): void {
  if (r === undefined) w.reject(new CheckerError('the signature checker sent no verdict', 'PsiwebError'));
  else if ('ok' in r) w.resolve(r.ok);
  else w.reject(new CheckerError(r.error, r.name));
}
