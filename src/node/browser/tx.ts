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
  return packSignedTransaction({ transaction, proofs: [await sign(key, transaction)], subjectiveData: null });
}
