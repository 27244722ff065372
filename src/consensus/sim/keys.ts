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

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function hex32(x: number): string {
  return HEX[x >>> 24]! + HEX[(x >>> 16) & 0xff]! + HEX[(x >>> 8) & 0xff]! + HEX[x & 0xff]!;
}

/** The two 32-bit words of the last `mac`: returned here rather than in a fresh array. */
const words = new Uint32Array(2);

/** Both lanes in one pass over the data: every message a node checks goes through here. */
function mac(secret: Uint32Array, data: Uint8Array): void {
  const n = data.length;
  let a = secret[0]! ^ n;
  let b = secret[1]! ^ Math.imul(n, 0x9e3779b1);
  for (let i = 0; i < n; i++) {
    const d = data[i]!;
    a = Math.imul(a ^ d, 0x5bd1e995);
    a ^= a >>> 15;
    b = Math.imul(b ^ d, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  words[0] = (a ^ (a >>> 16)) ^ secret[2]!;
  words[1] = (b ^ (b >>> 16)) ^ secret[3]!;
}

/** Whether `sig[at, at+8)` is `x` in lowercase hex, without building the string. */
function hexMatches(sig: string, at: number, x: number): boolean {
  for (let i = 0; i < 8; i++) {
    const nibble = (x >>> (28 - 4 * i)) & 15;
    if (sig.charCodeAt(at + i) !== (nibble < 10 ? 48 + nibble : 87 + nibble)) return false;
  }
  return true;
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
    return {
      sign: (data) => {
        mac(secret, data);
        return hex32(words[0]!) + hex32(words[1]!);
      },
    };
  }

  verify(producer: ProducerName, data: Uint8Array, signature: string): boolean {
    if (signature.length !== 16) return false;
    mac(this.secret(producer), data);
    return hexMatches(signature, 0, words[0]!) && hexMatches(signature, 8, words[1]!);
  }
}
