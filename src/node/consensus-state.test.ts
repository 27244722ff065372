/**
 * A producer's consensus state (the core's HardState) in its data directory: a restarted
 * Node peer keeps its term and vote; a file that is not one is refused, changing nothing.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CoreNode } from '../core/node.ts';
import { CONSENSUS_STATE_FILE, ConsensusStateError, decodeHardState, encodeHardState, loadHardState } from './consensus-state.ts';
import { startPeer, type PeerOptions } from './peer.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('consensus state in the data directory', () => {
  it('round-trips a hard state with its byte strings', () => {
    const hard = {
      term: 7,
      votedFor: 'a',
      irreversible: 'ab'.repeat(32),
      lastPrepared: { term: 7, id: 'cd'.repeat(32) },
      lastCommitted: undefined,
      bestPrepared: { blockId: 'cd'.repeat(32), term: 7, num: 9, prepares: [{ kind: 'prepare' as const, blockId: 'cd'.repeat(32), producer: 'b', signer: { service: 12345678901234567890n, rawData: new Uint8Array([9]) }, signature: new Uint8Array([1, 2, 255]) }] },
      irreversibleProof: new Uint8Array([0, 1, 2]),
    };
    const back = decodeHardState(encodeHardState(hard as never));
    expect(back).toEqual(hard);
    expect(back.irreversibleProof).toEqual(new Uint8Array([0, 1, 2]));
    for (const bad of ['', '{}', '{"version":1,"hardState":{"term":-1,"irreversible":"00"}}', '{"version":1,"hardState":{"term":1,"irreversible":"00","irreversibleProof":{"$hex":"zz"}}}'])
      expect(() => decodeHardState(bad)).toThrow(ConsensusStateError);
  });

  it('a restarted producer keeps the term and vote it persisted; a damaged file is refused and left as it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'psiweb-hardstate-'));
    dirs.push(dir);
    const options: PeerOptions = {
      dataDir: dir,
      port: 0,
      rootHost: 'psiweb.localhost',
      distDir: join(dir, 'none'),
      log: () => undefined,
      producers: ['a', 'b', 'c'],
      mode: 'cft',
      producer: 'a',
      blockIntervalMs: 100,
    };
    // Alone among three, `a` never wins an election: each timeout opens a new term, voting for itself.
    let peer = await startPeer(options);
    const core = () => peer.node as CoreNode;
    await until('a few terms', () => core().consensus.term >= 3);
    await peer.close();
    const saved = loadHardState(dir)!;
    expect(saved.term).toBeGreaterThanOrEqual(3);
    expect(saved.votedFor).toBe('a');

    peer = await startPeer(options);
    try {
      // At once, before any timeout: the term it left at (without the file it resumes at the genesis block's).
      expect(core().consensus.term).toBeGreaterThanOrEqual(saved.term);
    } finally {
      await peer.close();
    }

    writeFileSync(join(dir, CONSENSUS_STATE_FILE), '{"version":1,"hardState":{"term":"x"}}');
    await expect(startPeer(options)).rejects.toBeInstanceOf(ConsensusStateError);
    expect(readFileSync(join(dir, CONSENSUS_STATE_FILE), 'utf8')).toBe('{"version":1,"hardState":{"term":"x"}}');
  }, 60_000);
});
