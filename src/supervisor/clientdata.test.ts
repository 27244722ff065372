/**
 * The supervisor's client data store (clientdata.ts) on fake-indexeddb: write-through,
 * durable at flush, a failed write dropping the key space it touched, imports all or
 * nothing; and the export file refusing what is damaged or foreign.
 */
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { ClientDataFileError, ClientDataWriteError, fromFile, IdbClientData, rowsChecksum, toFile } from './clientdata.ts';

const bytes = (...b: number[]) => new Uint8Array(b);
const P = 'greetings:plugin';
const F = 'failing:plugin';

// Each test its own key spaces: the stores keep their connections open, so the database is never deleted.
describe('IdbClientData', () => {
  it('writes through to IndexedDB: after flush another store (a reload) reads the same', async () => {
    const a = new IdbClientData();
    await a.load(P);
    a.set(P, 'x', bytes(1, 2));
    a.set(P, 'y', bytes(3));
    a.delete(P, 'y');
    expect(a.get(P, 'x')).toEqual(bytes(1, 2));
    await a.flush();
    const b = new IdbClientData();
    await b.load(P);
    expect(b.get(P, 'x')).toEqual(bytes(1, 2));
    expect(b.get(P, 'y')).toBeUndefined();
    // One plugin's space only.
    await b.load('composer:plugin');
    expect(b.get('composer:plugin', 'x')).toBeUndefined();
  });

  it('a write that fails makes flush reject and drops the key space, which then reads what IndexedDB holds', async () => {
    const s = new IdbClientData();
    await s.load(F);
    s.set(F, 'x', bytes(1));
    await s.flush();
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('the quota is exceeded', 'QuotaExceededError');
    };
    try {
      s.set(F, 'x', bytes(2));
      expect(s.get(F, 'x')).toEqual(bytes(2));
      await expect(s.flush()).rejects.toThrow(ClientDataWriteError);
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    expect(() => s.get(F, 'x')).toThrow(/not loaded/);
    await s.load(F);
    expect(s.get(F, 'x')).toEqual(bytes(1));
    // Later writes work again.
    s.set(F, 'x', bytes(3));
    await s.flush();
  });

  it('imports rows in one transaction: key spaces in memory see them, and the spaces written are named', async () => {
    const s = new IdbClientData();
    await s.load('importa:plugin');
    expect(await s.importRows([{ plugin: 'importa:plugin', key: 'k', value: bytes(9) }, { plugin: 'importb:plugin', key: 'k', value: bytes(8) }])).toEqual(['importa:plugin', 'importb:plugin']);
    expect(s.get('importa:plugin', 'k')).toEqual(bytes(9));
    const rows = await s.exportRows((p) => p.startsWith('import'));
    expect(rows.map((r) => [r.plugin, r.key, [...r.value]])).toEqual([
      ['importa:plugin', 'k', [9]],
      ['importb:plugin', 'k', [8]],
    ]);
  });
});

describe('the plugin data file', () => {
  const rows = [
    { plugin: P, key: 'color', value: bytes(0, 255, 7) },
    { plugin: 'composer:plugin', key: 'big', value: new Uint8Array(1 << 20).map((_, i) => i * 7) },
  ];

  it('round-trips rows, large values too, with a checksum', () => {
    const file = toFile(rows);
    expect(file).toMatchObject({ format: 'psiweb-plugin-data', version: 2, crc32: rowsChecksum(file.rows) });
    const back = fromFile(JSON.stringify(file));
    // Compared as buffers: toEqual walks a large typed array element by element, for seconds.
    expect(back.map((r) => [r.plugin, r.key, Buffer.from(r.value).toString('hex')])).toEqual(rows.map((r) => [r.plugin, r.key, Buffer.from(r.value).toString('hex')]));
  });

  it('refuses a damaged file whole: truncated, a changed value, a missing checksum', () => {
    const text = JSON.stringify(toFile(rows));
    expect(() => fromFile(text.slice(0, text.length - 10))).toThrow(new ClientDataFileError('not a psiweb plugin data file (not JSON)'));
    const file = toFile(rows);
    // Still valid base64, one byte different.
    const changed = { ...file, rows: [{ ...file.rows[0]!, value: file.rows[0]!.value.replace(/^A/, 'B') }, file.rows[1]] };
    expect(changed.rows[0]!.value).not.toBe(file.rows[0]!.value);
    expect(() => fromFile(JSON.stringify(changed))).toThrow('the file is damaged: its checksum does not match its contents');
    expect(() => fromFile(JSON.stringify({ ...file, crc32: undefined }))).toThrow('its checksum does not match');
  });

  it('refuses a foreign file: another format or version, rows that are not plugin data', () => {
    expect(() => fromFile('{"hello":"world"}')).toThrow(new ClientDataFileError('not a psiweb plugin data file'));
    expect(() => fromFile(JSON.stringify({ ...toFile(rows), version: 3 }))).toThrow('version 3, which this psiweb cannot read');
    const forged = toFile([{ plugin: 'psiweb/grants', key: 'composer|greetings', value: new TextEncoder().encode('allow') }]);
    expect(() => fromFile(JSON.stringify(forged))).toThrow("row 0 writes the supervisor's own data (psiweb/grants)");
    const odd = toFile([{ plugin: 'not a plugin', key: 'k', value: bytes(1) }]);
    expect(() => fromFile(JSON.stringify(odd))).toThrow('row 0 names "not a plugin", which is not a plugin');
  });
});
