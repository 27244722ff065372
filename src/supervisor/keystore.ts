/**
 * auth-sig's keys on the supervisor origin (issue 10 §3): WebCrypto P-256 CryptoKeys,
 * imported non-extractable and kept in IndexedDB (structured clone keeps a CryptoKey
 * usable and still non-extractable). psibase keeps PKCS#8 text in localStorage; here
 * the private key never leaves WebCrypto after import.
 *
 * Which key signs for an account: auth-sig's table is not readable over HTTP in psiweb,
 * so an account's key is learned by use. A key bound to the account signs; otherwise
 * the most recently imported key bound to no account is tried, and bound once the chain
 * accepted a transaction it signed for that account. No candidate: NoKeyError, nothing
 * is submitted.
 */
import { generateKeyPair, privateKeyFromPem, privateKeyToPem, type KeyPair, type P256KeyPair } from '../crypto/keys.ts';
import { PsiwebError } from '../errors.ts';

export class NoKeyError extends PsiwebError {
  override name = 'NoKeyError';
}
export class KeyImportError extends PsiwebError {
  override name = 'KeyImportError';
}

export interface StoredKey {
  /** Hex of the DER SubjectPublicKeyInfo. */
  id: string;
  privateKey: CryptoKey;
  publicKeyDer: Uint8Array;
  importedAt: number;
}

export interface KeyStore {
  /** Imports a PKCS#8 PEM (P-256) as a non-extractable key; returns its public key DER. */
  importPem(pem: string): Promise<Uint8Array>;
  /** Checks a PEM as importPem would, storing nothing. */
  checkPem(pem: string): Promise<void>;
  /** The key that signs for `account`, and whether it is bound already. */
  keyFor(account: string): Promise<{ key: KeyPair; bound: boolean }>;
  bind(account: string, publicKeyDer: Uint8Array): Promise<void>;
  /** The public key DER of the key bound to `account`, if this device has one. */
  boundKey(account: string): Promise<Uint8Array | undefined>;
  /** Every key on this device: its public key and the accounts it is bound to. */
  list(): Promise<{ publicKeyDer: Uint8Array; accounts: string[]; importedAt: number }[]>;
}

/**
 * A new P-256 key as a PKCS#8 PEM, for the user to back up before it is stored
 * (issue 10 §3). It is made extractable only to be exported once: the caller offers
 * the PEM as a file, then imports it non-extractable (KeyStore.importPem) and drops the
 * text. The extractable CryptoKey itself never leaves this function.
 */
export async function newKeyPem(): Promise<{ pem: string; publicKeyDer: Uint8Array }> {
  const pair = await generateKeyPair('p256', { extractable: true });
  return { pem: await privateKeyToPem(pair), publicKeyDer: pair.publicKeyDer };
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

const DB = 'psiweb-supervisor-keys';
const KEYS = 'keys';
const BINDINGS = 'bindings';

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function parsePem(pem: string): Promise<P256KeyPair> {
  let pair: KeyPair;
  try {
    pair = await privateKeyFromPem(pem, { extractable: false });
  } catch (e) {
    throw new KeyImportError(`import-key: not a PKCS#8 private key PEM: ${String((e as Error)?.message ?? e)}`, { cause: e });
  }
  if (pair.alg !== 'p256') throw new KeyImportError('import-key: psiweb keeps P-256 keys only (WebCrypto has no secp256k1)');
  return pair;
}

export class IdbKeyStore implements KeyStore {
  private db: Promise<IDBDatabase> | undefined;

  private open(): Promise<IDBDatabase> {
    this.db ??= new Promise((resolve, reject) => {
      const r = indexedDB.open(DB, 1);
      r.onupgradeneeded = () => {
        r.result.createObjectStore(KEYS, { keyPath: 'id' });
        r.result.createObjectStore(BINDINGS);
      };
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    return this.db;
  }

  async checkPem(pem: string): Promise<void> {
    await parsePem(pem);
  }

  async importPem(pem: string): Promise<Uint8Array> {
    const pair = await parsePem(pem);
    const stored: StoredKey = { id: hex(pair.publicKeyDer), privateKey: pair.privateKey, publicKeyDer: pair.publicKeyDer, importedAt: Date.now() };
    const db = await this.open();
    await req(db.transaction(KEYS, 'readwrite').objectStore(KEYS).put(stored));
    return pair.publicKeyDer;
  }

  /** Every stored key and every binding (account → key id), read in one transaction. */
  private async readAll(): Promise<{ keys: StoredKey[]; boundIds: string[]; boundAccounts: IDBValidKey[] }> {
    const db = await this.open();
    const tx = db.transaction([KEYS, BINDINGS], 'readonly');
    const [keys, boundIds, boundAccounts] = await Promise.all([
      req(tx.objectStore(KEYS).getAll() as IDBRequest<StoredKey[]>),
      req(tx.objectStore(BINDINGS).getAll() as IDBRequest<string[]>),
      req(tx.objectStore(BINDINGS).getAllKeys()),
    ]);
    return { keys, boundIds, boundAccounts };
  }

  async keyFor(account: string): Promise<{ key: KeyPair; bound: boolean }> {
    const { keys, boundIds, boundAccounts } = await this.readAll();
    const asPair = (k: StoredKey): P256KeyPair => ({ alg: 'p256', privateKey: k.privateKey, publicKeyDer: k.publicKeyDer });
    const i = boundAccounts.indexOf(account);
    if (i >= 0) {
      const k = keys.find((x) => x.id === boundIds[i]);
      if (k) return { key: asPair(k), bound: true };
    }
    const free = keys.filter((k) => !boundIds.includes(k.id)).sort((a, b) => b.importedAt - a.importedAt);
    if (!free[0]) throw new NoKeyError(`no key on this device can sign for ${account}: import one (auth-sig keyvault import-key)`);
    return { key: asPair(free[0]), bound: false };
  }

  async boundKey(account: string): Promise<Uint8Array | undefined> {
    const db = await this.open();
    const tx = db.transaction([KEYS, BINDINGS], 'readonly');
    const id = await req(tx.objectStore(BINDINGS).get(account) as IDBRequest<string | undefined>);
    if (id === undefined) return undefined;
    const k = await req(tx.objectStore(KEYS).get(id) as IDBRequest<StoredKey | undefined>);
    return k?.publicKeyDer;
  }

  async list(): Promise<{ publicKeyDer: Uint8Array; accounts: string[]; importedAt: number }[]> {
    const { keys, boundIds, boundAccounts } = await this.readAll();
    return keys
      .sort((a, b) => a.importedAt - b.importedAt)
      .map((k) => ({ publicKeyDer: k.publicKeyDer, importedAt: k.importedAt, accounts: boundAccounts.filter((_, i) => boundIds[i] === k.id).map(String) }));
  }

  async bind(account: string, publicKeyDer: Uint8Array): Promise<void> {
    const db = await this.open();
    await req(db.transaction(BINDINGS, 'readwrite').objectStore(BINDINGS).put(hex(publicKeyDer), account));
  }
}
