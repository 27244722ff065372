/**
 * Signed token transfers for tests and benchmarks of the browser node: alice's (or any
 * devnet account's) dev key, TaPoS from the node's `/common/tapos/head`.
 */
import { sign } from '../../crypto/keys.ts';
import { accountNumber, methodNumber } from '../../protocol/names.ts';
import { packSignedTransaction, packTransaction } from '../../protocol/types.ts';
import { devnetKey } from '../devnet.ts';
import { packActionArgs } from '../schemas.ts';

export interface TransferArgs {
  from: string;
  to: string;
  amount: string;
  memo: string;
  tapos: { refBlockIndex: number; refBlockSuffix: number };
  /** Seconds since the epoch. */
  expiration: bigint;
  /**
   * Whose dev key signs (default: `from`, whose key the transaction claims). Another
   * account's key makes a forged proof: the claim is `from`'s key, the signature not.
   */
  signer?: string;
}

export async function signedTransfer(a: TransferArgs): Promise<Uint8Array> {
  const key = await devnetKey(a.from);
  const transaction = packTransaction({
    tapos: { expiration: a.expiration, flags: 0, ...a.tapos },
    actions: [
      {
        sender: accountNumber(a.from),
        service: accountNumber('tokens'),
        method: methodNumber('transfer'),
        rawData: packActionArgs('tokens', 'transfer', { to: a.to, amount: a.amount, memo: a.memo }),
      },
    ],
    claims: [{ service: accountNumber('verify-sig'), rawData: key.publicKeyDer }],
  });
  const signingKey = a.signer === undefined ? key : await devnetKey(a.signer);
  return packSignedTransaction({ transaction, proofs: [await sign(signingKey, transaction)], subjectiveData: null });
}
