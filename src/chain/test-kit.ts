/**
 * Hand-written WAT services standing in for psibase's system services in the chain
 * tests and benchmarks, with helpers to boot a chain on them and sign transactions.
 *
 * - `transact`: exports processTransaction and calls each action of the transaction
 *   (as psibase's Transact does, without auth or TaPoS); its `startBlock` counts blocks.
 * - `verifier`: a verify service accepting a proof equal to the transaction hash.
 * - `bank`: a transfer-like service; rawData is (to: u64, amount: u64) little-endian,
 *   every account starts with INITIAL_BALANCE.
 *
 * The stand-ins prefix their keys with their account number's little-endian bytes.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { accountNumber, methodNumber } from '../protocol/names.ts';
import { packTransaction, type Action, type Claim, type SignedTransaction, type Transaction } from '../protocol/types.ts';
import { CodeFlags } from '../vm/execution.ts';
import { wat2wasm } from '../vm/test-kit.ts';
import { START_BLOCK } from './constants.ts';
import type { GenesisService } from './native-tables.ts';
import type { NativeVerifier } from './verify.ts';

export { wat2wasm };

export const BANK = accountNumber('bank');
export const VERIFIER = accountNumber('verifier');
export const TRANSFER = methodNumber('transfer');
export const INITIAL_BALANCE = 1_000_000_000n;

const i64 = (n: bigint) => BigInt.asIntN(64, n).toString();

/** Reads the current action into $buf and returns where its rawData's bytes start (0 when empty). */
const READ_ACTION = `
  (func $readAction (param $buf i32) (result i32)
    (local $off i32)
    (drop (call $getResult (local.get $buf) (call $getCurrentAction) (i32.const 0)))
    (local.set $off (i32.load (i32.add (local.get $buf) (i32.const 26))))
    (if (result i32) (i32.eqz (local.get $off))
      (then (i32.const 0))
      (else (i32.add (i32.add (local.get $buf) (i32.const 30)) (local.get $off)))))
  (func $fail (param $msg i32) (param $len i32) (call $abortMessage (local.get $msg) (local.get $len)))`;

export const TRANSACT_WAT = `
(module
  (import "env" "getCurrentAction" (func $getCurrentAction (result i32)))
  (import "env" "getResult" (func $getResult (param i32 i32 i32) (result i32)))
  (import "env" "abortMessage" (func $abortMessage (param i32 i32)))
  (import "env" "call" (func $call (param i32 i32 i64) (result i32)))
  (import "env" "kvOpen" (func $kvOpen (param i32 i32 i32 i32) (result i32)))
  (import "env" "kvGet" (func $kvGet (param i32 i32 i32) (result i32)))
  (import "env" "kvPut" (func $kvPut (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 16) "transaction has no actions")
  (data (i32.const 48) "blocks")
  (global $self (mut i64) (i64.const 0))
  ${READ_ACTION}
  (func (export "start") (param i64) (global.set $self (local.get 0)))
  ;; startBlock: count blocks in the service db under (transact, "blocks").
  (func (export "called") (param i64 i64)
    (local $h i32) (local $n i32)
    (drop (call $readAction (i32.const 1024)))
    (if (i64.ne (i64.load (i32.const 1042)) (i64.const ${i64(START_BLOCK)})) (then (return)))
    (i64.store (i32.const 64) (global.get $self))
    (local.set $h (call $kvOpen (i32.const 0) (i32.const 64) (i32.const 8) (i32.const 3)))
    (if (i32.eq (call $kvGet (local.get $h) (i32.const 48) (i32.const 6)) (i32.const 4))
      (then (drop (call $getResult (i32.const 80) (i32.const 4) (i32.const 0))) (local.set $n (i32.load (i32.const 80)))))
    (i32.store (i32.const 80) (i32.add (local.get $n) (i32.const 1)))
    (call $kvPut (local.get $h) (i32.const 48) (i32.const 6) (i32.const 80) (i32.const 4)))
  (func (export "processTransaction")
    (local $rd i32) (local $trx i32) (local $list i32) (local $n i32) (local $i i32) (local $pos i32) (local $a i32) (local $off i32) (local $end i32)
    (local.set $rd (call $readAction (i32.const 65536)))
    ;; ProcessTransactionArgs: u16 fixed size, then the offset of the nested Transaction
    (local.set $trx (i32.add (i32.add (local.get $rd) (i32.const 6)) (i32.sub (i32.load (i32.add (local.get $rd) (i32.const 2))) (i32.const 4))))
    (local.set $trx (i32.add (local.get $trx) (i32.const 4)))
    ;; Transaction: u16 fixed size, Tapos (15 bytes), actions offset, claims offset
    (local.set $off (i32.load (i32.add (local.get $trx) (i32.const 17))))
    (if (i32.eqz (local.get $off)) (then (call $fail (i32.const 16) (i32.const 26))))
    (local.set $list (i32.add (i32.add (local.get $trx) (i32.const 17)) (local.get $off)))
    (local.set $n (i32.shr_u (i32.load (local.get $list)) (i32.const 2)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $pos (i32.add (i32.add (local.get $list) (i32.const 4)) (i32.shl (local.get $i) (i32.const 2))))
        (local.set $a (i32.add (local.get $pos) (i32.load (local.get $pos))))
        (local.set $off (i32.load (i32.add (local.get $a) (i32.const 26))))
        (local.set $end (i32.add (local.get $a) (i32.const 30)))
        (if (local.get $off)
          (then (local.set $end (i32.add (i32.add (i32.add (local.get $a) (i32.const 30)) (i32.sub (local.get $off) (i32.const 4)))
                                         (i32.add (i32.const 4) (i32.load (i32.add (i32.add (local.get $a) (i32.const 26)) (local.get $off))))))))
        (drop (call $call (local.get $a) (i32.sub (local.get $end) (local.get $a)) (i64.const 0)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))
`;

export const VERIFIER_WAT = `
(module
  (import "env" "getCurrentAction" (func $getCurrentAction (result i32)))
  (import "env" "getResult" (func $getResult (param i32 i32 i32) (result i32)))
  (import "env" "abortMessage" (func $abortMessage (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "signature invalid")
  ${READ_ACTION}
  (func (export "start") (param i64))
  ;; VerifyArgs: u16 fixed size, transactionHash[32], claim offset, proof offset
  (func (export "called") (param i64 i64)
    (local $rd i32) (local $off i32) (local $proof i32) (local $i i32)
    (local.set $rd (call $readAction (i32.const 1024)))
    (local.set $off (i32.load (i32.add (local.get $rd) (i32.const 38))))
    (if (i32.eqz (local.get $off)) (then (call $fail (i32.const 16) (i32.const 17))))
    (local.set $proof (i32.add (i32.add (local.get $rd) (i32.const 38)) (local.get $off)))
    (if (i32.ne (i32.load (local.get $proof)) (i32.const 32)) (then (call $fail (i32.const 16) (i32.const 17))))
    (loop $cmp
      (if (i64.ne (i64.load (i32.add (i32.add (local.get $proof) (i32.const 4)) (local.get $i)))
                  (i64.load (i32.add (i32.add (local.get $rd) (i32.const 2)) (local.get $i))))
        (then (call $fail (i32.const 16) (i32.const 17))))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br_if $cmp (i32.lt_u (local.get $i) (i32.const 32))))))
`;

export const BANK_WAT = `
(module
  (import "env" "getCurrentAction" (func $getCurrentAction (result i32)))
  (import "env" "getResult" (func $getResult (param i32 i32 i32) (result i32)))
  (import "env" "abortMessage" (func $abortMessage (param i32 i32)))
  (import "env" "kvOpen" (func $kvOpen (param i32 i32 i32 i32) (result i32)))
  (import "env" "kvGet" (func $kvGet (param i32 i32 i32) (result i32)))
  (import "env" "kvPut" (func $kvPut (param i32 i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "insufficient balance")
  (data (i32.const 48) "bad transfer data")
  (global $h (mut i32) (i32.const -1))
  ${READ_ACTION}
  (func (export "start") (param $self i64)
    (i64.store (i32.const 64) (local.get $self))
    (global.set $h (call $kvOpen (i32.const 0) (i32.const 64) (i32.const 8) (i32.const 3))))
  (func $balance (param $acct i64) (result i64)
    (i64.store (i32.const 96) (local.get $acct))
    (if (result i64) (i32.eq (call $kvGet (global.get $h) (i32.const 96) (i32.const 8)) (i32.const 8))
      (then (drop (call $getResult (i32.const 104) (i32.const 8) (i32.const 0))) (i64.load (i32.const 104)))
      (else (i64.const ${INITIAL_BALANCE}))))
  (func $setBalance (param $acct i64) (param $v i64)
    (i64.store (i32.const 96) (local.get $acct))
    (i64.store (i32.const 104) (local.get $v))
    (call $kvPut (global.get $h) (i32.const 96) (i32.const 8) (i32.const 104) (i32.const 8)))
  (func (export "called") (param $service i64) (param $sender i64)
    (local $rd i32) (local $to i64) (local $amount i64) (local $b i64)
    (local.set $rd (call $readAction (i32.const 1024)))
    (if (i32.or (i32.eqz (local.get $rd)) (i32.ne (i32.load (i32.sub (local.get $rd) (i32.const 4))) (i32.const 16)))
      (then (call $fail (i32.const 48) (i32.const 17))))
    (local.set $to (i64.load (local.get $rd)))
    (local.set $amount (i64.load (i32.add (local.get $rd) (i32.const 8))))
    (local.set $b (call $balance (local.get $sender)))
    (if (i64.gt_u (local.get $amount) (local.get $b)) (then (call $fail (i32.const 16) (i32.const 20))))
    (call $setBalance (local.get $sender) (i64.sub (local.get $b) (local.get $amount)))
    (call $setBalance (local.get $to) (i64.add (call $balance (local.get $to)) (local.get $amount)))))
`;

/** The services of a test chain, with their genesis flags. */
export async function testServices(): Promise<GenesisService[]> {
  const privileged = CodeFlags.isPrivileged;
  const svc = async (name: string, wat: string, flags: bigint): Promise<GenesisService> => ({
    service: accountNumber(name),
    flags,
    vmType: 0,
    vmVersion: 0,
    code: await wat2wasm(wat),
  });
  return [
    await svc('transact', TRANSACT_WAT, privileged),
    await svc('verifier', VERIFIER_WAT, CodeFlags.isVerify),
    await svc('bank', BANK_WAT, privileged),
  ];
}

/** The native twin of VERIFIER_WAT: same verdicts, through a promise. */
export function hashLockVerifier(code: Uint8Array): NativeVerifier {
  return {
    codeHash: sha256(code),
    verify: async (p) => p.proof.length === 32 && p.proof.every((b, i) => b === p.hash[i]),
  };
}

export function transferAction(sender: bigint, to: bigint, amount: bigint): Action {
  const rawData = new Uint8Array(16);
  const v = new DataView(rawData.buffer);
  v.setBigUint64(0, to, true);
  v.setBigUint64(8, amount, true);
  return { sender, service: BANK, method: TRANSFER, rawData };
}

export interface TrxOptions {
  expiration: bigint;
  claims?: Claim[];
  /** Proofs to attach; by default the hash-lock proof for each claim. */
  proofs?: (packed: Uint8Array) => Uint8Array[];
  flags?: number;
}

/** A transaction whose every claim is the hash-lock verifier's, with valid proofs. */
export function signedTransaction(actions: Action[], options: TrxOptions): SignedTransaction {
  const claims = options.claims ?? [{ service: VERIFIER, rawData: new Uint8Array(0) }];
  const trx: Transaction = {
    tapos: { expiration: options.expiration, refBlockSuffix: 0, flags: options.flags ?? 0, refBlockIndex: 0 },
    actions,
    claims,
  };
  const packed = packTransaction(trx);
  const proofs = options.proofs ? options.proofs(packed) : claims.map(() => sha256(packed));
  return { transaction: packed, proofs, subjectiveData: null };
}

/** The state key of an account's bank balance. */
export function balanceKey(account: bigint): Uint8Array {
  const key = new Uint8Array(1 + 8 + 8);
  const v = new DataView(key.buffer);
  key[0] = 0;
  v.setBigUint64(1, BANK, true);
  v.setBigUint64(9, account, true);
  return key;
}
