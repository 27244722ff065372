import type { BenchFile, Figure } from '../../test/bench-kit.ts';
import { figure } from '../../test/bench-kit.ts';
import { measure } from '../../test/measure.ts';
import { accountNumber, methodNumber } from './names.ts';
import { openSignedTransaction, packSignedTransaction, packTransaction, type Action } from './types.ts';

function signedTransaction(actions: number): Uint8Array {
  const action: Action = {
    sender: accountNumber('alice'),
    service: accountNumber('tokens'),
    method: methodNumber('credit'),
    rawData: new Uint8Array(64).fill(7),
  };
  const transaction = packTransaction({
    tapos: { expiration: 1_700_000_000n, refBlockSuffix: 1, flags: 0, refBlockIndex: 2 },
    actions: Array.from({ length: actions }, () => action),
    claims: [{ service: accountNumber('verify-sig'), rawData: new Uint8Array(91).fill(4) }],
  });
  return packSignedTransaction({ transaction, proofs: [new Uint8Array(64).fill(9)] });
}

const bench: BenchFile = async () => {
  const figures: Figure[] = [];
  for (const n of [1, 100]) {
    const bytes = signedTransaction(n);
    const { signed, transaction } = openSignedTransaction(bytes);
    const decode = await measure(() => openSignedTransaction(bytes));
    const encode = await measure(() => packSignedTransaction({ ...signed, transaction: packTransaction(transaction) }));
    const label = `SignedTransaction (${n} action${n === 1 ? '' : 's'}, ${bytes.length} B)`;
    figures.push(
      figure(
        `fracpack decode ${label}`,
        'node',
        decode.usPerOp,
        'µs',
        n === 1 ? { op: '<=', value: 5, text: '≤ 5 µs' } : undefined,
      ),
      figure(`fracpack decode ${label}`, 'node', decode.opsPerSec, 'ops/s'),
      figure(`fracpack decode ${label}`, 'node', (decode.opsPerSec * bytes.length) / 1e6, 'MB/s'),
      figure(`fracpack encode ${label}`, 'node', encode.opsPerSec, 'ops/s'),
      figure(`fracpack encode ${label}`, 'node', (encode.opsPerSec * bytes.length) / 1e6, 'MB/s'),
    );
  }
  return figures;
};

export default bench;
