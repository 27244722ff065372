/**
 * The Node peer's consensus state on disk: the core's HardState (term, the CFT vote, the
 * BFT prepares and commits it made, the irreversible block and its certificate), so a
 * restarted producer never votes twice in a term. psibase keeps the same in its
 * database (`consensus` state beside the fork database, written before a vote goes
 * out); here it is `consensus.json` in the data directory, written before the messages
 * of the step that changed it go out (CoreNode's `persist`): a temporary file, fsynced,
 * then renamed over the old one, so a crash leaves the old state or the new, never half.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { HardState } from '../consensus/types.ts';
import { PsiwebError } from '../errors.ts';
import { toHex } from '../state/bytes.ts';

export const CONSENSUS_STATE_FILE = 'consensus.json';

/** consensus.json does not hold a consensus state. */
export class ConsensusStateError extends PsiwebError {
  override name = 'ConsensusStateError';
}

/** Byte strings as {"$hex": "…"}, integers beyond JSON's (a claim's service) as {"$big": "…"}; undefined fields left out. */
export function encodeHardState(hard: HardState): string {
  return JSON.stringify({ version: 1, hardState: hard }, (_k, v: unknown) => (v instanceof Uint8Array ? { $hex: toHex(v) } : typeof v === 'bigint' ? { $big: v.toString() } : v));
}

export function decodeHardState(text: string): HardState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (_k, v: unknown) => {
      if (v !== null && typeof v === 'object' && '$hex' in v && typeof (v as { $hex: unknown }).$hex === 'string') {
        const hex = (v as { $hex: string }).$hex;
        if (!/^([0-9a-f]{2})*$/.test(hex)) throw new ConsensusStateError('a byte string that is not hex');
        return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
      }
      if (v !== null && typeof v === 'object' && '$big' in v && typeof (v as { $big: unknown }).$big === 'string') {
        const big = (v as { $big: string }).$big;
        if (!/^-?\d+$/.test(big)) throw new ConsensusStateError('an integer that is not decimal');
        return BigInt(big);
      }
      return v;
    });
  } catch (e) {
    throw new ConsensusStateError(`${CONSENSUS_STATE_FILE} is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const h = (parsed as { version?: unknown; hardState?: Record<string, unknown> } | null)?.hardState;
  if ((parsed as { version?: unknown }).version !== 1 || !h || typeof h.term !== 'number' || !Number.isInteger(h.term) || h.term < 0 || typeof h.irreversible !== 'string')
    throw new ConsensusStateError(`${CONSENSUS_STATE_FILE} holds no consensus state (version 1, term, irreversible)`);
  if (h.votedFor !== undefined && typeof h.votedFor !== 'string') throw new ConsensusStateError(`${CONSENSUS_STATE_FILE}: votedFor is not a name`);
  return h as unknown as HardState;
}

/** The consensus state a previous run left in `dir`, if any. */
export function loadHardState(dir: string): HardState | undefined {
  const path = join(dir, CONSENSUS_STATE_FILE);
  if (!existsSync(path)) return undefined;
  return decodeHardState(readFileSync(path, 'utf8'));
}

/** Writes the consensus state to `dir` durably (synchronous: before the step's messages go out). */
export function hardStateWriter(dir: string): (hard: HardState) => void {
  const path = join(dir, CONSENSUS_STATE_FILE);
  return (hard) => {
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, encodeHardState(hard));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  };
}
