/**
 * The Node peer's libp2p identity: an Ed25519 private key kept in its data directory
 * (`libp2p.key`, libp2p's protobuf encoding of the key, file mode 0600), so its peer id
 * and the multiaddrs browsers keep (invite links) stay the same across restarts. A
 * directory without one gets a new key, written atomically (a temporary file, fsynced,
 * renamed over it). A file that is not a key is refused with a Libp2pKeyDamagedError:
 * a new identity would strand every peer that knows this one.
 */
import { generateKeyPair, generateKeyPairFromSeed, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { bytesEqual } from '../../state/bytes.ts';
import { Libp2pKeyDamagedError } from './errors.ts';

export const LIBP2P_KEY_FILE = 'libp2p.key';

/**
 * The key of the data directory `dir`; undefined when it has none yet. A
 * Libp2pKeyDamagedError for a file that is not an Ed25519 key in libp2p's protobuf
 * encoding, holds anything after it, or whose public half is not its seed's (a flipped bit).
 */
export async function readLibp2pKey(dir: string): Promise<PrivateKey | undefined> {
  const path = join(dir, LIBP2P_KEY_FILE);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let key: PrivateKey;
  try {
    key = privateKeyFromProtobuf(bytes);
  } catch (e) {
    throw damaged(path, bytes.length, (e as Error).message, e);
  }
  if (key.type !== 'Ed25519') throw damaged(path, bytes.length, `a ${key.type} key; psiweb keeps an Ed25519 key here`);
  // privateKeyFromProtobuf checks neither that the key is all there is, nor that its
  // public half belongs to its seed: the key the seed gives must encode to the same bytes.
  const again = await generateKeyPairFromSeed('Ed25519', key.raw.subarray(0, 32));
  if (!bytesEqual(privateKeyToProtobuf(again), bytes)) throw damaged(path, bytes.length, 'its public key is not its seed\'s, or bytes follow the key');
  return key;
}

/** Writes `key` as the data directory's key: atomically, readable by this user only. */
export function writeLibp2pKey(dir: string, key: PrivateKey): void {
  const path = join(dir, LIBP2P_KEY_FILE);
  const tmp = `${path}.tmp`;
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, privateKeyToProtobuf(key));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** The data directory's key, made (and written) if it has none. Call with the directory locked. */
export async function loadLibp2pKey(dir: string, log?: (line: string) => void): Promise<PrivateKey> {
  const existing = await readLibp2pKey(dir);
  if (existing) return existing;
  const key = await generateKeyPair('Ed25519');
  writeLibp2pKey(dir, key);
  log?.(`libp2p: a new key for this node in ${join(dir, LIBP2P_KEY_FILE)}`);
  return key;
}

function damaged(path: string, length: number, why: string, cause?: unknown): Libp2pKeyDamagedError {
  return new Libp2pKeyDamagedError(
    `${path} is not a libp2p private key (${length} bytes: ${why}): restore it from a backup to keep this node's peer id, or remove it to give the node a new one`,
    { cause, details: { path, length } },
  );
}

