/**
 * The simulator's signature scheme: a keyed hash (two independent 32-bit lanes mixed
 * murmur-style over secret ‖ data, 64 bits out, 8 bytes). Not cryptographic, only cheap enough
 * for thousands of runs; what matters is that a node holds only its own secret, so
 * the Byzantine code cannot make a signature that verifies under another name.
 * The real node plugs in src/crypto through the same Signer/Verifier interfaces.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { accountNumber } from '../../protocol/names.ts';
import type { Claim } from '../../protocol/types.ts';
import type { ProducerName, Signer, Verifier } from '../types.ts';

const SIM_VERIFY = accountNumber('sim-verify');
const utf8 = new TextEncoder();

/** A simulated producer's claim: a stand-in verify service and its name as the key. */
export function simClaim(name: ProducerName): Claim {
  return { service: SIM_VERIFY, rawData: utf8.encode(name) };
}

function put32(out: Uint8Array, at: number, x: number): void {
  out[at] = x >>> 24;
  out[at + 1] = (x >>> 16) & 0xff;
  out[at + 2] = (x >>> 8) & 0xff;
  out[at + 3] = x & 0xff;
}

function get32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
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
        const sig = new Uint8Array(8);
        put32(sig, 0, words[0]!);
        put32(sig, 4, words[1]!);
        return sig;
      },
    };
  }

  verify(producer: ProducerName, data: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== 8) return false;
    mac(this.secret(producer), data);
    return get32(signature, 0) === words[0]! && get32(signature, 4) === words[1]!;
  }
}
