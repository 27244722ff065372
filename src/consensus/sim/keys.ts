/**
 * The simulator's signature scheme: a keyed sha256 (sha256(secret ‖ data), 128 bits).
 * Cheap enough for thousands of runs; a node holds only its own secret, so another
 * node cannot produce a signature that verifies under a name that is not its own.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import type { ProducerName, Signer, Verifier } from '../types.ts';

function mac(secret: Uint8Array, data: Uint8Array): string {
  return bytesToHex(sha256(concatBytes(secret, data)).subarray(0, 16));
}

export class SimKeyring implements Verifier {
  private readonly secrets = new Map<ProducerName, Uint8Array>();

  constructor(private readonly seed: number) {}

  private secret(name: ProducerName): Uint8Array {
    let s = this.secrets.get(name);
    if (!s) {
      s = sha256(utf8ToBytes(`psiweb-sim-key|${this.seed}|${name}`));
      this.secrets.set(name, s);
    }
    return s;
  }

  /** The signer a node gets: it can sign only as itself. */
  signerFor(name: ProducerName): Signer {
    const secret = this.secret(name);
    return { sign: (data) => mac(secret, data) };
  }

  verify(producer: ProducerName, data: Uint8Array, signature: string): boolean {
    return mac(this.secret(producer), data) === signature;
  }
}
