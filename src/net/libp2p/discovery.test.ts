import { describe, expect, it } from 'vitest';
import { DiscoveryError, encodeDiscoveryAnswer, MAX_DISCOVERY_BYTES, MAX_DISCOVERY_PEERS, parseDiscoveryAnswer } from './discovery.ts';

const ID = '12D3KooWGRUVh4QYmC3E7ZHH8dBbnzUy4LZGBbXVSZy5DzQWyPmA';
const RELAY = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
const addr = `/ip4/127.0.0.1/tcp/4001/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${ID}`;
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

describe('discovery answers (/psiweb/peers/1.0.0)', () => {
  it('round-trips a good answer', () => {
    const a = { chainId: 'ab'.repeat(32), peers: [{ id: ID, addrs: [addr] }] };
    expect(parseDiscoveryAnswer(encodeDiscoveryAnswer(a))).toEqual(a);
    expect(parseDiscoveryAnswer(enc({ chainId: null, peers: [] }))).toEqual({ chainId: null, peers: [] });
  });

  it('refuses each malformed answer with a typed DiscoveryError naming the fault', () => {
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(MAX_DISCOVERY_BYTES + 1), 'oversize'],
      [new Uint8Array([0xff, 0xfe]), 'bad-json'],
      [enc('x'), 'bad-shape'],
      [enc({ chainId: 'AB'.repeat(32), peers: [] }), 'bad-chain-id'],
      [enc({ chainId: null }), 'bad-shape'],
      [enc({ chainId: null, peers: Array(MAX_DISCOVERY_PEERS + 1).fill({ id: ID, addrs: [addr] }) }), 'oversize'],
      [enc({ chainId: null, peers: [{ id: 'nope', addrs: [] }] }), 'bad-peer-id'],
      [enc({ chainId: null, peers: [{ id: ID, addrs: ['not a multiaddr'] }] }), 'bad-addr'],
      [enc({ chainId: null, peers: [{ id: ID, addrs: [`/ip4/127.0.0.1/tcp/4001/ws/p2p/${RELAY}`] }] }), 'bad-addr'],
      [enc({ chainId: null, peers: [{ id: ID, addrs: Array(9).fill(addr) }] }), 'bad-shape'],
      [enc({ chainId: null, peers: [{ id: ID, addrs: ['/' + 'x'.repeat(600)] }] }), 'bad-addr'],
    ];
    for (const [bytes, fault] of cases) {
      let err: unknown;
      try {
        parseDiscoveryAnswer(bytes);
      } catch (e) {
        err = e;
      }
      expect(err, fault).toBeInstanceOf(DiscoveryError);
      expect((err as DiscoveryError).fault, (err as Error).message).toBe(fault);
    }
  });
});
