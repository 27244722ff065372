/** `psiweb start`'s peer flags: --peer (repeatable, URL or multiaddr), --follow, --block-interval-ms, --libp2p-port, --no-libp2p. */
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

  const ID = '12D3KooWCVsg89g1uLN4U4DABwuD4H1yyfSNhv5CmErBz2VhyRQ3';

  it('runs libp2p on the HTTP port + 1 unless told otherwise: --libp2p-port N (0: any), --no-libp2p', () => {
    expect(parseStartArgs([]).libp2pPort).toBe(8081);
    expect(parseStartArgs(['--port', '9000']).libp2pPort).toBe(9001);
    expect(parseStartArgs(['--port', '0']).libp2pPort).toBe(0);
    expect(parseStartArgs(['--libp2p-port', '7000']).libp2pPort).toBe(7000);
    expect(parseStartArgs(['--libp2p-port', '0']).libp2pPort).toBe(0);
    expect(parseStartArgs(['--no-libp2p']).libp2pPort).toBe(false);
  });

  it('refuses libp2p ports that cannot be', () => {
    expect(() => parseStartArgs(['--libp2p-port', '70000'])).toThrow(/--libp2p-port must be a number from 0 to 65535, got "70000"/);
    expect(() => parseStartArgs(['--libp2p-port', 'x'])).toThrow(UsageError);
    expect(() => parseStartArgs(['--libp2p-port', '8080'])).toThrow(/--libp2p-port 8080 is the HTTP --port/);
    expect(() => parseStartArgs(['--libp2p-port', '7000', '--no-libp2p'])).toThrow(/pick one/);
    expect(() => parseStartArgs(['--port', '65535'])).toThrow(/--port 65535 leaves no port above it for libp2p/);
    expect(parseStartArgs(['--port', '65535', '--libp2p-port', '0']).libp2pPort).toBe(0);
  });

  it('takes a libp2p multiaddr as --peer, ending in /p2p/<peer id>', () => {
    const addr = `/ip4/127.0.0.1/tcp/8081/ws/p2p/${ID}`;
    expect(parseStartArgs(['--follow', '--peer', addr, '--peer', 'http://psiweb.localhost:8090']).peers).toEqual([addr, 'http://psiweb.localhost:8090/']);
    expect(() => parseStartArgs(['--peer', '/ip4/127.0.0.1/tcp/8081/ws'])).toThrow(/names no peer: it must end in \/p2p\/<peer id>/);
    expect(() => parseStartArgs(['--peer', '/ip4/300.0.0.1/tcp/8081/ws'])).toThrow(/is not a multiaddr/);
    expect(() => parseStartArgs(['--peer', '/nonsense'])).toThrow(UsageError);
    expect(() => parseStartArgs(['--no-libp2p', '--peer', addr])).toThrow(/needs the libp2p host, which --no-libp2p turns off/);
    expect(START_USAGE).toMatch(/--libp2p-port: .*default: --port \+ 1/);
    expect(START_USAGE).toMatch(/--no-libp2p/);
  });
});
