/**
 * PEM (RFC 7468) text armour: how psibase shows keys in JSON (AuthSig's
 * SubjectPublicKeyInfo to_json is a "PUBLIC KEY" PEM) and how users bring keys
 * ("PRIVATE KEY" = PKCS#8). Written with 64-column lines and LF endings, the form
 * Botan and RustCrypto emit, so our text matches psibase's byte for byte.
 */
import { DecodeError } from '../errors.ts';

export type PemLabel = 'PUBLIC KEY' | 'PRIVATE KEY';

const LINE = 64;

function toBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(bin);
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function fromBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0 || !BASE64.test(text)) throw new DecodeError('PEM body is not valid base64');
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function pemEncode(label: PemLabel, der: Uint8Array): string {
  const b64 = toBase64(der);
  let body = '';
  for (let i = 0; i < b64.length; i += LINE) body += b64.slice(i, i + LINE) + '\n';
  return `-----BEGIN ${label}-----\n${body}-----END ${label}-----\n`;
}

const PEM = /^\s*-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n?-----END ([A-Z0-9 ]+)-----\s*$/;

/**
 * Decodes exactly one PEM block whose label must be `label` (psibase checks the label
 * too: a private key pasted where a public key belongs is refused, not misread).
 */
export function pemDecode(text: string, label: PemLabel): Uint8Array {
  if (typeof text !== 'string') throw new DecodeError('PEM must be a string');
  const m = PEM.exec(text);
  if (!m) throw new DecodeError(`not a PEM block (expected "-----BEGIN ${label}-----")`);
  const [, begin, body, end] = m;
  if (begin !== end) throw new DecodeError(`PEM labels differ: "${begin}" / "${end}"`);
  if (begin !== label) throw new DecodeError(`expected PEM label "${label}", got "${begin}"`);
  // RFC 7468 §3: the body may be wrapped anywhere; whitespace carries no data.
  const der = fromBase64((body ?? '').replace(/\s+/g, ''));
  if (der.length === 0) throw new DecodeError('PEM body is empty');
  return der;
}
