/**
 * The simulator's signature scheme: a keyed hash (two independent 32-bit lanes mixed
 * murmur-style over secret ‖ data, 64 bits out). Not cryptographic, only cheap enough
 * for thousands of runs; what matters is that a node holds only its own secret, so
 * the Byzantine code cannot make a signature that verifies under another name.
 * The real node plugs in src/crypto through the same Signer/Verifier interfaces.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { ProducerName, Signer, Verifier } from '../types.ts';

function lane(h: number, data: Uint8Array): number {
  for (let i = 0; i < data.length; i++) {
    h = Math.imul(h ^ data[i]!, 0x5bd1e995);
    h ^= h >>> 15;
  }
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

function mac(secret: Uint32Array, data: Uint8Array): string {
  const a = lane(secret[0]! ^ data.length, data) ^ secret[2]!;
  const b = lane(secret[1]! ^ Math.imul(data.length, 0x9e3779b1), data) ^ secret[3]!;
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

export class SimKeyring implements Verifier {
  private readonly secrets = new Map<ProducerName, Uint32Array>();

  constructor(private readonly seed: number) {}

  private secret(name: ProducerName): Uint32Array {
    let s = this.secrets.get(name);
    if (!s) {
      s = new Uint32Array(sha256(utf8ToBytes(`psiweb-sim-key|${this.seed}|${name}`)).buffer, 0, 4);
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
