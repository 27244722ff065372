import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runConformance } from '../../protocol/conformance.ts';
import { checkP2pVectors, P2pVectorFileError } from './conformance.ts';
import { MESSAGE_TYPES, SIGNED_MESSAGE_NAMES } from './messages.ts';

const dir = join(process.cwd(), 'test/vectors/p2p');
const messagesFile = join(dir, 'psibase-messages.json');
const confirmFile = join(dir, 'psibase-block-confirm.json');
const edgeFile = join(dir, 'psibase-edge-cases.json');
interface Vector {
  type: string;
  json?: unknown;
  hex: string;
  error?: boolean;
  extended?: boolean;
}
const load = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as Vector[];
const extra = { p2p: checkP2pVectors };
const read = (p: string) => readFileSync(p, 'utf8');

function runCli(file: string): { status: number; out: string } {
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', 'bin/conformance.ts', 'p2p', file], { encoding: 'utf8', stdio: 'pipe' });
    return { status: 0, out };
  } catch (e) {
    const err = e as { status: number; stdout: string };
    return { status: err.status, out: err.stdout };
  }
}

describe('p2p conformance vectors (from psibase C++)', () => {
  it('cover every message type and every SignedMessage<…>', () => {
    const types = new Set(load(messagesFile).map((v) => v.type));
    for (const name of Object.keys(MESSAGE_TYPES)) expect(types, name).toContain(name);
    for (const name of SIGNED_MESSAGE_NAMES) expect(types, name).toContain(`SignedMessage<${name}>`);
    expect(new Set(load(confirmFile).map((v) => v.type))).toEqual(new Set(['BlockConfirm', 'ProducerConfirm']));
  });

  it('all pass through the runner', () => {
    const m = runConformance(['p2p', messagesFile], read, extra);
    expect(m.lines).toEqual([`${load(messagesFile).length} passed, 0 failed`]);
    expect(m.code).toBe(0);
    const c = runConformance(['p2p', confirmFile], read, extra);
    expect(c.lines).toEqual(['4 passed, 0 failed']);
    const e = runConformance(['p2p', edgeFile], read, extra);
    expect(e.lines).toEqual([`${load(edgeFile).length} passed, 0 failed`]);
  });

  it('psio refuses what we refuse: the edge-case file has truncations and extra bytes of every kind of message', () => {
    const edge = load(edgeFile);
    const errors = edge.filter((v) => v.error);
    expect(errors.length).toBeGreaterThanOrEqual(30);
    for (const t of ['InitMessage', 'HelloRequest', 'BlockMessage', 'CommitMessage', 'SignedMessage<PrepareMessage>'])
      expect(errors.filter((v) => v.type === t).length, t).toBeGreaterThanOrEqual(2);
    // an extended message decodes, but is not what its JSON encodes to
    const ext = edge.find((v) => v.extended)!;
    expect(checkP2pVectors([{ ...ext, extended: false }]).failures).toHaveLength(1);
    expect(checkP2pVectors([ext]).passed).toBe(1);
  });

  it('fails a vector whose hex, json or type is corrupted', () => {
    const vectors = load(messagesFile);
    const prepare = vectors.find((v) => v.type === 'SignedMessage<PrepareMessage>')!;
    const vote = vectors.find((v) => v.type === 'RequestVoteResponse')!;
    const corrupt: Vector[] = [
      // one signature byte flipped: decodes, but not to the expected JSON
      { ...prepare, hex: prepare.hex.slice(0, -2) + (prepare.hex.endsWith('00') ? '01' : '00') },
      // one JSON field changed
      { ...vote, json: { ...(vote.json as object), term: 99 } },
      // right bytes, wrong kind
      { ...vote, type: 'RequestVoteRequest' },
      // an unsigned form under its signed kind
      { ...vectors.find((v) => v.type === 'PrepareMessage')!, type: 'SignedMessage<PrepareMessage>' },
      // an "error" vector that actually decodes
      { type: 'InitMessage', hex: '01040000000000', error: true },
      { type: 'NoSuchMessage', json: {}, hex: '00' },
    ];
    const r = checkP2pVectors([...corrupt, prepare]);
    expect(r.passed).toBe(1);
    expect(r.failures).toHaveLength(corrupt.length);
  });

  it('reads byte strings in JSON and hex of either case', () => {
    const lower = (x: unknown): unknown =>
      typeof x === 'string' && /^[0-9A-F]+$/.test(x) ? x.toLowerCase() : Array.isArray(x) ? x.map(lower) : typeof x === 'object' && x !== null ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, lower(y)])) : x;
    const vs = load(messagesFile).filter((v) => /Prepare|Block/.test(v.type));
    const mixed = vs.map((v) => ({ ...v, json: lower(v.json), hex: v.hex.toUpperCase() }));
    expect(JSON.stringify(mixed)).not.toBe(JSON.stringify(vs));
    expect(checkP2pVectors(mixed)).toEqual({ passed: vs.length, failures: [] });
  });

  it('accepts error vectors that are refused', () => {
    const r = checkP2pVectors([
      { type: 'InitMessage', hex: '0104000000000000', error: true }, // trailing byte
      { type: 'InitMessage', hex: '010400000000', error: true }, // truncated
      { type: 'CommitMessage', hex: '27', error: true },
    ]);
    expect(r).toEqual({ passed: 3, failures: [] });
  });

  it('a malformed file is exit 2', () => {
    const files = new Map([['obj.json', '{"type":"InitMessage"}']]);
    const fake = (p: string) => files.get(p) ?? '';
    expect(runConformance(['p2p', 'obj.json'], fake, extra).code).toBe(2);
    expect(() => checkP2pVectors({})).toThrow(P2pVectorFileError);
  });

  it('npm run conformance -- p2p passes the shipped file and exits non-zero on a corrupted one', () => {
    const good = runCli(messagesFile);
    expect(good.status).toBe(0);
    expect(good.out.trim().split('\n').at(-1)).toBe(`${load(messagesFile).length} passed, 0 failed`);

    const vectors = load(messagesFile);
    const i = vectors.findIndex((v) => v.type === 'HelloRequest');
    const v = vectors[i]!;
    // committed: true → false in the bytes only
    vectors[i] = { ...v, hex: v.hex.slice(0, 14) + '00' + v.hex.slice(16) };
    expect(v.hex.slice(14, 16)).toBe('01');
    const tmp = join(mkdtempSync(join(tmpdir(), 'psiweb-p2p-')), 'bad.json');
    writeFileSync(tmp, JSON.stringify(vectors));
    const bad = runCli(tmp);
    expect(bad.status).toBe(1);
    expect(bad.out.trim().split('\n').at(-1)).toBe(`${vectors.length - 1} passed, 1 failed`);
  });
});
