import { describe, expect, it } from 'vitest';
import { DecodeError, EncodeError } from '../errors.ts';
import { fromHex, toHex } from './fracpack/index.ts';
import { accountNumber, methodNumber } from './names.ts';
import {
  fromJson,
  openSignedTransaction,
  packAction,
  packBlockHeader,
  packSignedTransaction,
  packTapos,
  packTransaction,
  toJson,
  transactionTraceJson,
  unpackAction,
  unpackBlockHeader,
  unpackSignedTransaction,
  unpackTapos,
  type Action,
  type ActionTrace,
  type BlockHeader,
  type Transaction,
  type TransactionTrace,
} from './types.ts';

const action: Action = {
  sender: accountNumber('alice'),
  service: accountNumber('tokens'),
  method: methodNumber('credit'),
  rawData: new Uint8Array([1, 2, 3]),
};

const le64 = (n: bigint) => toHex(new Uint8Array(new BigUint64Array([n]).buffer));

describe('Action', () => {
  it('packs as an extensible struct: u16 fixed size, three u64, offset, then the bytes', () => {
    const expected = '1C00' + le64(action.sender) + le64(action.service) + le64(action.method) + '04000000' + '03000000010203';
    expect(toHex(packAction(action))).toBe(expected);
    expect(unpackAction(fromHex(expected))).toEqual(action);
  });

  it('packs empty rawData as offset 0', () => {
    const bytes = packAction({ ...action, rawData: new Uint8Array() });
    expect(toHex(bytes).slice(-8)).toBe('00000000');
    expect(unpackAction(bytes).rawData).toEqual(new Uint8Array());
  });

  it('converts to and from psibase JSON with names as strings', () => {
    const j = toJson('Action', action);
    expect(j).toEqual({ sender: 'alice', service: 'tokens', method: 'credit', rawData: '010203' });
    expect(fromJson('Action', j)).toEqual(action);
  });

  it('rejects bad bytes and bad values with typed errors', () => {
    expect(() => unpackAction(new Uint8Array([1, 2, 3]))).toThrow(DecodeError);
    expect(() => packAction({ ...action, sender: -1n })).toThrow(EncodeError);
    expect(() => fromJson('Action', { ...(toJson('Action', action) as object), method: 'Not A Method!' })).toThrow(EncodeError);
  });
});

describe('Tapos', () => {
  it('is a fixed 15-byte struct with no size prefix', () => {
    const t = { expiration: 1_700_000_000n, refBlockSuffix: 0xdeadbeef, flags: 1, refBlockIndex: 0x85 };
    const bytes = packTapos(t);
    expect(toHex(bytes)).toBe(le64(1_700_000_000n) + 'EFBEADDE' + '0100' + '85');
    expect(unpackTapos(bytes)).toEqual(t);
    expect(toJson('Tapos', t)).toEqual({ expiration: '2023-11-14T22:13:20Z', refBlockSuffix: 0xdeadbeef, flags: 1, refBlockIndex: 0x85 });
  });
});

const trx: Transaction = {
  tapos: { expiration: 1_700_000_000n, refBlockSuffix: 7, flags: 0, refBlockIndex: 3 },
  actions: [action],
  claims: [{ service: accountNumber('verify-sig'), rawData: new Uint8Array([9]) }],
};

describe('SignedTransaction', () => {
  it('nests the packed Transaction and round-trips', () => {
    const inner = packTransaction(trx);
    const st = { transaction: inner, proofs: [new Uint8Array([5, 6])], subjectiveData: null };
    const bytes = packSignedTransaction(st);
    expect(unpackSignedTransaction(bytes)).toEqual(st);
    const opened = openSignedTransaction(bytes);
    expect(opened.transaction).toEqual(trx);
    expect(opened.signed).toEqual(st);
    // JSON shows the nested transaction as an object, as psibase does.
    const j = toJson('SignedTransaction', st) as { transaction: { actions: unknown[] } };
    expect(j.transaction.actions).toEqual([toJson('Action', action)]);
    expect(fromJson('SignedTransaction', j)).toEqual(st);
  });

  it('refuses nested bytes that are not a Transaction', () => {
    expect(() => packSignedTransaction({ transaction: new Uint8Array([1, 2]), proofs: [] })).toThrow(EncodeError);
    const bytes = packSignedTransaction({ transaction: packTransaction(trx), proofs: [] });
    // Outer fixed area is 8 bytes (2 offsets, subjectiveData omitted), then the nested
    // size at 10; byte 14 is the inner Transaction's own fixed-size prefix.
    expect(new DataView(bytes.buffer).getUint16(0, true)).toBe(8);
    const bad = bytes.slice();
    bad[14] = 0xff;
    expect(() => openSignedTransaction(bad)).toThrow(DecodeError);
    expect(() => unpackSignedTransaction(bad)).toThrow(DecodeError);
  });
});

describe('BlockHeader', () => {
  it('round-trips with consensus and auth code', () => {
    const h: BlockHeader = {
      previous: new Uint8Array(32).fill(1),
      blockNum: 42,
      time: 1_700_000_000_123_456n,
      producer: accountNumber('prod'),
      term: 3,
      commitNum: 41,
      consensusState: new Uint8Array(32).fill(2),
      trxMerkleRoot: new Uint8Array(32),
      eventMerkleRoot: new Uint8Array(32),
      newConsensus: {
        data: { BftConsensus: { producers: [{ name: accountNumber('prod'), auth: { service: accountNumber('verify-sig'), rawData: new Uint8Array([1]) } }] } },
        services: [{ codeNum: accountNumber('auth-sig'), codeHash: new Uint8Array(32).fill(9), vmType: 0, vmVersion: 0 }],
        wasmConfig: { numExecutionMemories: 32, vmOptions: { max_mutable_global_bytes: 1024, max_pages: 512, max_table_elements: 8192, max_stack_bytes: 1 << 20 } },
      },
      authCode: [{ vmType: 0, vmVersion: 0, code: new Uint8Array([0, 97, 115, 109]) }],
    };
    const bytes = packBlockHeader(h);
    expect(unpackBlockHeader(bytes)).toEqual(h);
    const j = toJson('BlockHeader', h) as Record<string, unknown>;
    expect(j.time).toBe('2023-11-14T22:13:20.123456Z');
    expect(j.producer).toBe('prod');
    expect(fromJson('BlockHeader', j)).toEqual(h);
    // Trailing empty optionals are omitted: the fixed area shrinks by 8 bytes.
    const bare = packBlockHeader({ ...h, newConsensus: null, authCode: null });
    expect(new DataView(bare.buffer).getUint16(0, true)).toBe(32 + 4 + 8 + 8 + 4 + 4 + 32 * 3);
  });
});

describe('transactionTraceJson', () => {
  /** A seeded generator, so a failure names a trace that comes back. */
  function random(seed: number): () => number {
    let s = seed >>> 0;
    return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  }

  function traces(seed: number): TransactionTrace {
    const r = random(seed);
    const bytes = () => Uint8Array.from({ length: Math.floor(r() * 6) }, () => Math.floor(r() * 256));
    const u64 = () => BigInt(Math.floor(r() * 2 ** 32)) * BigInt(Math.floor(r() * 2 ** 32));
    const account = () => accountNumber(['alice', 'tokens', 'transact', 'a-b-c', 'x', 'zzzzzzzzzz'][Math.floor(r() * 6)]!);
    const text = () => ['', 'ok', 'ünïcödé "quoted"\n', 'insufficient balance'][Math.floor(r() * 4)]!;
    const action = (depth: number): ActionTrace => ({
      action: { sender: account(), service: r() < 0.2 ? 0n : account(), method: methodNumber(['transfer', 'processTransaction', 'credit', 'a'][Math.floor(r() * 4)]!), rawData: bytes() },
      rawRetval: bytes(),
      innerTraces: Array.from({ length: depth > 2 ? 0 : Math.floor(r() * 4) }, () => {
        const k = r();
        if (k < 0.33) return { inner: { ConsoleTrace: { console: text() } } };
        if (k < 0.66) return { inner: { EventTrace: { name: text(), data: bytes() } } };
        return { inner: { ActionTrace: action(depth + 1) } };
      }),
      totalTime: r() < 0.1 ? -5n : u64() & ((1n << 63n) - 1n),
      error: r() < 0.3 ? text() : null,
    });
    return { actionTraces: Array.from({ length: Math.floor(r() * 3) }, () => action(0)), error: r() < 0.3 ? text() : null };
  }

  it('writes exactly what toJson writes, to the byte, for 500 seeded traces', () => {
    for (let seed = 0; seed < 500; seed++) {
      const t = traces(seed);
      expect(JSON.stringify(transactionTraceJson(t)), `seed ${seed}`).toBe(JSON.stringify(toJson('TransactionTrace', t)));
    }
  });
});
