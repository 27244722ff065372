/**
 * `psiweb devkey NAME`: prints the devnet dev key of account NAME (the P-256 key the
 * devnet derives from the name, src/node/devnet.ts devnetKey) as a PKCS#8 "PRIVATE
 * KEY" PEM, so a tester can import it in the browser (auth-sig keyvault import-key).
 * Dev keys are public knowledge: never use them on a real chain.
 */
import { devKeyPair, privateKeyToPem, publicKeyToPem } from '../../crypto/keys.ts';
import { isValidAccountName } from '../../protocol/names.ts';
import { DEVNET_USERS } from '../devnet.ts';
import { EXIT_OK, UsageError, type CliIo } from './io.ts';

export const DEVKEY_USAGE = `usage: psiweb devkey NAME [--public]
  prints the devnet dev key of account NAME (e.g. ${DEVNET_USERS.join(', ')}) as a PKCS#8 PEM
  (--public: its public key PEM instead). Devnet only: anyone can derive these keys.`;

export async function runDevkey(argv: string[], io: CliIo): Promise<number> {
  const pub = argv.includes('--public');
  const rest = argv.filter((a) => a !== '--public');
  const unknown = rest.find((a) => a.startsWith('-'));
  if (unknown) throw new UsageError(`unknown option ${unknown}`);
  if (rest.length !== 1) throw new UsageError(rest.length === 0 ? 'give an account name' : 'give one account name');
  const name = rest[0]!;
  if (!isValidAccountName(name)) throw new UsageError(`"${name}" is not an account name`);
  const key = await devKeyPair('p256', name, { extractable: true });
  io.stdout(pub ? publicKeyToPem(key.publicKeyDer) : await privateKeyToPem(key));
  return EXIT_OK;
}
