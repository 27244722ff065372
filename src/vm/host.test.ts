import { beforeAll, describe, expect, it } from 'vitest';
import { CacheMissError } from '../errors.ts';
import { accountNumber } from '../protocol/names.ts';
import { packAction } from '../protocol/types.ts';
import type { Overlay } from '../state/types.ts';
import { DbId, KvMode, dbKey } from './dbs.ts';
import { LimitError, ModuleError, ServiceError } from './errors.ts';
import { CodeFlags } from './execution.ts';
import type { ServiceCode } from './execution.ts';
import { ServiceHost } from './host.ts';
import { Output, SCRIPT_SERVICE_WAT, Script, accountPrefix, newState, scriptAction, wat2wasm } from './test-kit.ts';
import type { TransactionOptions } from './transaction.ts';

let script: Uint8Array;
const host = new ServiceHost();

beforeAll(async () => {
  script = await wat2wasm(SCRIPT_SERVICE_WAT);
});

/** Every account runs the script service; `priv` ones are privileged. */
function codeFor(privileged: string[] = ['alice', 'db']) {
  return (service: bigint): ServiceCode | undefined => {
    for (const name of ['alice', 'bob', 'carol', 'db']) {
      if (accountNumber(name) === service)
        return { code: script, flags: privileged.includes(name) ? CodeFlags.isPrivileged : 0n };
    }
    return undefined;
  };
}

function run(state: Overlay, s: Script, opts: Partial<TransactionOptions> & { sender?: string; service?: string } = {}) {
  return host.runAction({
    state,
    codeFor: codeFor(),
    ...opts,
    action: scriptAction(opts.sender ?? 'alice', opts.service ?? 'alice', s),
  });
}

const alice = accountPrefix('alice');
const bytes = (s: string) => new TextEncoder().encode(s);
const key = (prefix: Uint8Array, s: string) => new Uint8Array([...prefix, ...bytes(s)]);

describe('ServiceHost: kv and the result buffer', () => {
  it('puts, gets and reads results in parts with offsets', () => {
    const state = newState();
    const r = run(
      state,
      new Script().open(DbId.service, alice, KvMode.readWrite).put(0, 'k', 'hello world').get(0, 'k').getResult(5, 6).getResult(4, 0).getResult(3, 20).get(0, 'missing').getResult(8, 0),
    );
    expect(r.error).toBeUndefined();
    const out = new Output(r.retval);
    expect(out.u32()).toBe(0); // handle
    expect(out.u32()).toBe(11); // kvGet size
    expect(out.u32()).toBe(11);
    expect(out.text(5)).toBe('world');
    expect(out.u32()).toBe(11);
    expect(out.text(4)).toBe('hell');
    expect(out.u32()).toBe(11); // offset past the end copies nothing
    expect(out.take(3)).toEqual(new Uint8Array(3));
    expect(out.i32()).toBe(-1); // missing key clears the result
    expect(out.u32()).toBe(0);
    expect(out.take(8)).toEqual(new Uint8Array(8));
    expect(out.done).toBe(true);
    expect(state.get(dbKey(DbId.service, key(alice, 'k')))).toEqual(bytes('hello world'));
  });

  it('iterates with greaterEqual, lessThan and max inside prefixes, and getKey trims the handle prefix', () => {
    const state = newState();
    const s = new Script().open(DbId.service, alice, KvMode.readWrite);
    for (const k of ['a1', 'a2', 'a3', 'b1']) s.put(0, k, `v${k}`);
    s.greaterEqual(0, 'a2', 1).getKey(8) // a2
      .greaterEqual(0, 'a4', 1) // no a* >= a4
      .greaterEqual(0, 'a4', 0).getKey(2) // b1
      .lessThan(0, 'a2', 1).getKey(2) // a1
      .lessThan(0, 'a1', 1) // none
      .lessThan(0, 'c', 0).getResult(3, 0) // b1's value
      .max(0, 'a').getKey(2) // a3
      .max(0, 'c') // none
      .openAt(0, bytes('a'), KvMode.read).greaterEqual(1, '', 0).getKey(4);
    const r = run(state, s);
    expect(r.error).toBeUndefined();
    const out = new Output(r.retval);
    out.u32();
    expect(out.u32()).toBe(3);
    expect(out.u32()).toBe(2);
    expect(out.text(8)).toBe('a2\0\0\0\0\0\0');
    expect(out.i32()).toBe(-1);
    expect(out.u32()).toBe(3);
    expect([out.u32(), out.text(2)]).toEqual([2, 'b1']);
    expect(out.u32()).toBe(3);
    expect([out.u32(), out.text(2)]).toEqual([2, 'a1']);
    expect(out.i32()).toBe(-1);
    expect(out.u32()).toBe(3);
    expect([out.u32(), out.text(3)]).toEqual([3, 'vb1']);
    expect(out.u32()).toBe(3);
    expect([out.u32(), out.text(2)]).toEqual([2, 'a3']);
    expect(out.i32()).toBe(-1);
    expect(out.u32()).toBe(1); // kvOpenAt handle
    expect(out.u32()).toBe(3);
    expect([out.u32(), out.text(4)]).toEqual([1, '1\0\0\0']); // key relative to prefix alice+'a'
    expect(out.done).toBe(true);
  });

  it('refuses writes through a read-only handle and permission increases', () => {
    const state = newState();
    const r = run(state, new Script().open(DbId.service, alice, KvMode.read).put(0, 'k', 'v'));
    expect(r.error).toBeInstanceOf(ServiceError);
    expect(r.error?.message).toMatch(/Cannot write to this db handle/);
    const r2 = run(state, new Script().open(DbId.service, alice, KvMode.read).openAt(0, bytes('x'), KvMode.readWrite));
    expect(r2.error?.message).toBe('Cannot increase permissions');
  });

  it('lets only privileged services open databases; others import handles from one (the db service pattern)', () => {
    const state = newState();
    const bob = accountPrefix('bob');
    const denied = run(state, new Script().open(DbId.service, bob, KvMode.readWrite), { sender: 'bob', service: 'bob' });
    expect(denied.error?.message).toBe("service 'bob' aborted with message: service may not open databases");
    // db opens bob's prefix and exports the handle; bob imports and writes through it.
    const open = new Script().open(DbId.service, bob, KvMode.readWrite).exportHandles([0]);
    const s = new Script().call(packAction(scriptAction('bob', 'db', open))).importHandles().getResult(8, 0).put(0, 'x', 'y');
    const r = run(state, s, { sender: 'bob', service: 'bob' });
    expect(r.error).toBeUndefined();
    const out = new Output(r.retval);
    expect(out.u32()).toBe(4); // db's retval: its handle
    expect(out.u32()).toBe(8); // importHandles: size of the packed vector
    expect(out.u32()).toBe(8);
    expect(out.take(8)).toEqual(new Uint8Array([4, 0, 0, 0, 0, 0, 0, 0])); // vector<KvHandle> [0]
    expect(state.get(dbKey(DbId.service, key(bob, 'x')))).toEqual(bytes('y'));
  });

  it('enforces run-mode rules: writeOnly is unreadable and subjective dbs closed in transactions', () => {
    const state = newState();
    expect(run(state, new Script().open(DbId.writeOnly, alice, KvMode.read)).error?.message).toBe(
      'subjective databases cannot be read in a deterministic context',
    );
    expect(run(state, new Script().open(DbId.subjective, alice, KvMode.read)).error?.message).toBe(
      'subjective databases cannot be accessed in a deterministic context',
    );
    expect(run(state, new Script().open(DbId.blockLog, alice, KvMode.write).put(0, 'k', 'v')).error?.message).toMatch(
      /may not write this db/,
    );
    expect(run(state, new Script().open(99, alice, KvMode.read)).error?.message).toMatch(/may not read this db/);
    expect(run(state, new Script().open(DbId.service, alice, 7)).error?.message).toMatch(/invalid mode/);
  });

  it('rejects bad handles, out-of-bounds pointers and oversize keys with typed errors', () => {
    const state = newState();
    expect(run(state, new Script().get(5, 'k')).error?.message).toBe('Invalid bucket');
    expect(run(state, new Script().open(DbId.service, alice, KvMode.read).close(0).close(0)).error?.message).toBe('Invalid bucket');
    const oob = run(state, new Script().open(DbId.service, alice, KvMode.read).outOfBounds());
    expect(oob.error).toBeInstanceOf(ServiceError);
    expect(oob.error?.message).toMatch(/out-of-bounds/);
    const big = run(state, new Script().open(DbId.service, alice, KvMode.readWrite).put(0, 'k'.repeat(130), 'v'));
    expect(big.error).toBeInstanceOf(LimitError);
    const many = new Script();
    for (let i = 0; i < 65; i++) many.open(DbId.service, alice, KvMode.read);
    expect(run(state, many).error).toMatchObject({ name: 'LimitError', kind: 'handles' });
  });
});

describe('ServiceHost: actions, calls and traces', () => {
  it('collects console output, abort messages and the current action', () => {
    const state = newState();
    const r = run(state, new Script().console('hello ').console('world').abort('boom'));
    expect(r.error).toBeInstanceOf(ServiceError);
    expect(r.error?.message).toBe("service 'alice' aborted with message: boom");
    expect(r.trace.error).toBe(r.error?.message);
    expect(r.trace.innerTraces).toEqual([{ inner: { ConsoleTrace: { console: 'hello world' } } }]);
  });

  it('passes the caller as sender, nests traces and returns the callee retval', () => {
    const state = newState();
    const inner = new Script().console('in carol');
    const r = run(state, new Script().console('before').call(packAction(scriptAction('alice', 'carol', inner))).getResult(100, 0).console('after'));
    expect(r.error).toBeUndefined();
    const kinds = r.trace.innerTraces.map((t) => Object.keys(t.inner)[0]);
    expect(kinds).toEqual(['ConsoleTrace', 'ActionTrace', 'ConsoleTrace']);
    const nested = r.trace.innerTraces[1]!.inner as { ActionTrace: { action: { sender: bigint }; innerTraces: unknown[] } };
    expect(nested.ActionTrace.action.sender).toBe(accountNumber('alice'));
    expect(nested.ActionTrace.innerTraces).toEqual([{ inner: { ConsoleTrace: { console: 'in carol' } } }]);
  });

  it('refuses a call as another sender from an unprivileged service', () => {
    const r = run(newState(), new Script().call(packAction(scriptAction('alice', 'carol', new Script()))), { sender: 'bob', service: 'bob' });
    expect(r.error?.message).toBe('service is not authorized to call as another sender');
  });

  it('rolls back an aborting callee and fails the caller with its error, as psibase does', () => {
    const state = newState();
    const carol = accountPrefix('carol');
    const callee = new Script().open(DbId.service, carol, KvMode.readWrite).put(0, 'c', '1').abort('callee failed');
    const caller = new Script().open(DbId.service, alice, KvMode.readWrite).put(0, 'a', '1').call(packAction(scriptAction('carol', 'carol', callee)));
    const sp = state.savepoint();
    const r = run(state, caller, { codeFor: codeFor(['alice', 'carol']) });
    expect(r.error?.message).toBe("service 'carol' aborted with message: callee failed");
    const nested = r.trace.innerTraces.at(-1)!.inner as { ActionTrace: { error?: string } };
    expect(nested.ActionTrace.error).toBe(r.error?.message);
    expect(r.trace.error).toBe(r.error?.message);
    expect(state.get(dbKey(DbId.service, key(carol, 'c')))).toBeUndefined();
    expect(state.get(dbKey(DbId.service, key(alice, 'a')))).toBeUndefined();
    state.release(sp);
  });

  it('undoes only the callee when a callback fails on replay, keeping the caller’s writes', () => {
    const state = newState();
    const subjective = newState();
    const callee = new Script().abort('callback failed');
    const caller = new Script()
      .open(DbId.service, alice, KvMode.readWrite)
      .put(0, 'a', '1')
      .call(packAction(scriptAction('alice', 'carol', callee)), 2)
      .getResult(3, 0);
    const r = run(state, caller, { subjective, producing: false, subjectiveData: [bytes('rec')] });
    expect(r.error).toBeUndefined();
    const out = new Output(r.retval);
    out.u32();
    expect(out.u32()).toBe(3);
    expect([out.u32(), out.text(3)]).toEqual([3, 'rec']);
    expect(state.get(dbKey(DbId.service, key(alice, 'a')))).toEqual(bytes('1'));
    const produced = host.transaction({ state: newState(), codeFor: codeFor(), producing: true });
    const p = produced.runAction(scriptAction('alice', 'alice', new Script().call(packAction(scriptAction('alice', 'carol', new Script().console('x'))), 1)));
    expect(p.error).toBeUndefined();
    expect(produced.subjectiveDataOut).toHaveLength(1);
  });

  it('limits nested call depth to psibase’s stack budget', () => {
    const r = run(newState(), new Script().recurse());
    expect(r.error).toMatchObject({ name: 'LimitError', kind: 'callDepth', message: 'stack overflow' });
    // 1 MiB / 4096 bytes per call.
    let depth = 0;
    let t = r.trace;
    while (t.innerTraces[0] && 'ActionTrace' in t.innerTraces[0].inner) {
      t = t.innerTraces[0].inner.ActionTrace;
      depth++;
    }
    expect(depth).toBe(256);
    expect(run(newState(), new Script().recurse(), { limits: { maxStackBytes: 4096 * 3 } }).trace.innerTraces).toHaveLength(1);
  });

  it('reports an unknown service, a bad action and bad call flags as typed errors', () => {
    const state = newState();
    const unknown = run(state, new Script().call(packAction(scriptAction('alice', 'nobody', new Script()))));
    expect(unknown.error).toBeInstanceOf(ServiceError);
    expect(unknown.error?.message).toBe('unknown service account: nobody');
    const bad = run(state, new Script().call(new Uint8Array([1, 2, 3])));
    expect(bad.error?.message).toBe('call: invalid data format');
    const flags = run(state, new Script().call(packAction(scriptAction('alice', 'carol', new Script())), 7));
    expect(flags.error?.message).toMatch(/Invalid call flags: 7/);
  });
});

describe('ServiceHost: limits and bad code', () => {
  it('stops an endless loop with a LimitError and keeps serving', () => {
    const state = newState();
    const r = run(state, new Script().open(DbId.service, alice, KvMode.readWrite).put(0, 'x', '1').loop(), { limits: { cpuBudget: 2_000_000n } });
    expect(r.error).toMatchObject({ name: 'LimitError', kind: 'cpu' });
    expect(r.cpuUsed).toBeGreaterThanOrEqual(2_000_000n);
    expect(state.get(dbKey(DbId.service, key(alice, 'x')))).toBeUndefined();
    const ok = run(state, new Script().console('still here'));
    expect(ok.error).toBeUndefined();
    expect(ok.cpuUsed).toBeGreaterThan(0n);
  });

  it('gives the same verdict and the same CPU count on every run', () => {
    const a = run(newState(), new Script().console('x').loop(), { limits: { cpuBudget: 100_000n } });
    const b = run(newState(), new Script().console('x').console('y'));
    const c = run(newState(), new Script().console('x').console('y'));
    expect(a.error?.name).toBe('LimitError');
    expect(b.cpuUsed).toBe(c.cpuUsed);
  });

  it('caps memory at 512 pages', async () => {
    const r = run(newState(), new Script().grow(100).grow(500));
    const out = new Output(r.retval);
    expect(out.u32()).toBe(4);
    expect(out.i32()).toBe(-1);
    const huge = await wat2wasm('(module (memory (export "memory") 600) (func (export "start") (param i64)) (func (export "called") (param i64 i64)))');
    const res = host.runAction({ state: newState(), codeFor: () => ({ code: huge }), action: scriptAction('alice', 'alice', new Script()) });
    expect(res.error).toMatchObject({ name: 'LimitError', kind: 'memory' });
  });

  it('turns malformed wasm, unknown imports and missing exports into ModuleErrors', async () => {
    const state = newState();
    const action = scriptAction('alice', 'alice', new Script());
    const garbage = host.runAction({ state, codeFor: () => ({ code: new Uint8Array([0, 97, 115, 109, 9]) }), action });
    expect(garbage.error).toBeInstanceOf(ModuleError);
    const unknownImport = await wat2wasm('(module (import "env" "nope" (func)) (func (export "start") (param i64)))');
    expect(host.runAction({ state, codeFor: () => ({ code: unknownImport }), action }).error?.message).toMatch(/env\.nope/);
    const wrongSig = await wat2wasm('(module (import "env" "kvGet" (func (param i32))) (func (export "start") (param i64)))');
    expect(host.runAction({ state, codeFor: () => ({ code: wrongSig }), action }).error?.message).toMatch(/wrong signature/);
    const meterImport = await wat2wasm('(module (import "psiweb:meter" "exhausted" (func)))');
    expect(host.runAction({ state, codeFor: () => ({ code: meterImport }), action }).error).toBeInstanceOf(ModuleError);
    const noCalled = await wat2wasm('(module (memory (export "memory") 1) (func (export "start") (param i64)))');
    const missing = host.runAction({ state, codeFor: () => ({ code: noCalled }), action });
    expect(missing.error).toBeInstanceOf(ModuleError);
    expect(missing.error?.message).toMatch(/does not export called/);
    const trap = await wat2wasm('(module (memory (export "memory") 1) (func (export "start") (param i64)) (func (export "called") (param i64 i64) unreachable))');
    expect(host.runAction({ state, codeFor: () => ({ code: trap }), action }).error?.message).toMatch(/wasm trap/);
  });

  it('lets a CacheMissError from the state escape untouched', () => {
    const state = newState();
    const miss = new CacheMissError(new Uint8Array([0]), undefined);
    const origGet = state.get.bind(state);
    state.get = (k) => {
      if (k[0] === DbId.service) throw miss;
      return origGet(k);
    };
    expect(() => run(state, new Script().open(DbId.service, alice, KvMode.read).get(0, 'k'))).toThrow(miss);
  });
});

describe('ServiceHost: the pool of idle instances and spare memories', () => {
  const plain = () => scriptAction('alice', 'alice', new Script().console('x'));
  const growing = (pages: number) => scriptAction('alice', 'alice', new Script().grow(pages));
  const runOn = (h: ServiceHost, action = plain(), code = codeFor()) => {
    const r = h.runAction({ state: newState(), codeFor: code, action });
    expect(r.error).toBeUndefined();
    return r;
  };

  it('stays within its budget whatever grows, and later calls still reuse what it keeps', () => {
    const pooled = new ServiceHost();
    const { budgetBytes } = pooled.poolStats;
    // Memories grown by different amounts, as queries with larger requests grow them,
    // between ordinary calls.
    for (let i = 0; i < 120; i++) {
      runOn(pooled, growing(1 + ((i * 7) % 60)));
      if (i % 10 === 0) runOn(pooled);
      expect(pooled.poolStats.bytes).toBeLessThanOrEqual(budgetBytes);
    }
    // A grown memory serves no fresh instance: none is kept.
    expect(pooled.poolStats.spareMemories).toBe(0);
    const before = pooled.poolStats;
    for (let i = 0; i < 20; i++) runOn(pooled);
    const after = pooled.poolStats;
    // The first may instantiate (the grown instance was not kept); the rest reuse it.
    expect(after.instancesCreated - before.instancesCreated).toBeLessThanOrEqual(1);
    expect(after.memoriesCreated - before.memoriesCreated).toBeLessThanOrEqual(1);
    expect(after.instancesReused - before.instancesReused).toBeGreaterThanOrEqual(19);
    expect(after.memoriesDropped).toBeGreaterThanOrEqual(120);
  });

  it('makes room for what runs now: older entries go first, within the page budget and the instance cap', async () => {
    const other = await wat2wasm('(module (memory (export "memory") 3) (func (export "start") (param i64)) (func (export "called") (param i64 i64)))');
    const otherCode = (): ServiceCode => ({ code: other });
    // Room for two of the script's 4-page instances, or one and a 3-page one.
    const small = new ServiceHost({ maxPoolPages: 10 });
    const txs = [0, 1].map(() => small.transaction({ state: newState(), codeFor: codeFor() }));
    for (const tx of txs) expect(tx.runAction(plain()).error).toBeUndefined();
    for (const tx of txs) tx.close();
    expect(small.poolStats).toMatchObject({ idleInstances: 2, bytes: 8 * 65536 });
    const before = small.poolStats;
    for (let i = 0; i < 10; i++) {
      runOn(small, plain(), otherCode);
      expect(small.poolStats.bytes).toBeLessThanOrEqual(small.poolStats.budgetBytes);
    }
    runOn(small);
    const after = small.poolStats;
    expect(after.instancesCreated - before.instancesCreated).toBe(1);
    expect(after.evicted - before.evicted).toBe(1);
    expect(after).toMatchObject({ idleInstances: 2, bytes: 7 * 65536 });

    // Idle instances of one service fill the instance cap; another's still get pooled.
    const capped = new ServiceHost({ maxPooledInstances: 3 });
    const open = [0, 1, 2].map(() => capped.transaction({ state: newState(), codeFor: codeFor() }));
    for (const tx of open) expect(tx.runAction(plain()).error).toBeUndefined();
    for (const tx of open) tx.close();
    const full = capped.poolStats;
    for (let i = 0; i < 10; i++) runOn(capped, plain(), otherCode);
    expect(capped.poolStats.instancesCreated - full.instancesCreated).toBe(1);
    expect(capped.poolStats.idleInstances).toBe(3);
  });

  it('leaves memories larger than it keeps to the garbage collector', () => {
    const pooled = new ServiceHost({ maxPooledPages: 4 });
    runOn(pooled, growing(1));
    expect(pooled.poolStats).toMatchObject({ idleInstances: 0, spareMemories: 0, bytes: 0, memoriesDropped: 1 });
    runOn(pooled);
    expect(pooled.poolStats).toMatchObject({ idleInstances: 1, bytes: 4 * 65536 });
  });
});
