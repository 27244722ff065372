import { describe, expect, it } from 'vitest';
import { nativeSchema, pack } from './native-tables.ts';

describe('native table codecs', () => {
  it('pack ProcessTransactionArgs as the schema does', () => {
    for (const transaction of [new Uint8Array(0), Uint8Array.of(7), new Uint8Array(300).map((_, i) => i)]) {
      expect(pack.processTransactionArgs(transaction)).toEqual(nativeSchema.type('ProcessTransactionArgs').encode({ transaction }));
    }
  });
});
