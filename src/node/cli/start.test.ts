/** `psiweb start`'s peer flags: --peer (repeatable), --follow, --block-interval-ms. */
import { describe, expect, it } from 'vitest';
import { UsageError } from './io.ts';
import { parseStartArgs, START_USAGE } from './start.ts';

describe('psiweb start: peer flags', () => {
  it('defaults: a producer with no peers at psinode\'s 1 s interval', () => {
    expect(parseStartArgs([])).toMatchObject({ peers: [], follow: false, blockIntervalMs: 1000 });
  });

  it('takes --peer repeatedly, --follow and --block-interval-ms', () => {
    const o = parseStartArgs(['--peer', 'http://psiweb.localhost:8080', '--peer', 'psiweb.localhost:8081', '--follow', '--block-interval-ms', '100']);
    expect(o).toMatchObject({ peers: ['http://psiweb.localhost:8080/', 'http://psiweb.localhost:8081/'], follow: true, blockIntervalMs: 100 });
  });

  it('refuses bad values with the flag named', () => {
    expect(() => parseStartArgs(['--block-interval-ms', '0'])).toThrow(/--block-interval-ms must be/);
    expect(() => parseStartArgs(['--block-interval-ms', '1.5'])).toThrow(UsageError);
    expect(() => parseStartArgs(['--peer', 'https://psiweb.localhost'])).toThrow(/only http:\/\/ and ws:\/\//);
    expect(() => parseStartArgs(['--peer', 'http://[nope'])).toThrow(/--peer must be a URL/);
    expect(() => parseStartArgs(['--follow'])).toThrow(/--follow needs at least one --peer/);
  });

  it('says in its help how a follower is chosen', () => {
    expect(START_USAGE).toMatch(/--follow: do not produce/);
    expect(START_USAGE).toMatch(/x-peers\.<host>\/p2p/);
  });
});
