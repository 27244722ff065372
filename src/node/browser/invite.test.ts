import { describe, expect, it } from 'vitest';
import { InviteError } from './errors.ts';
import { consumeJoinFragment, decodeInvite, encodeInvite, inviteLink, JOIN_SETTING, storedJoin, type Join } from './invite.ts';

const ID = '12D3KooWGRUVh4QYmC3E7ZHH8dBbnzUy4LZGBbXVSZy5DzQWyPmA';
const RELAY = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
const join: Join = {
  chainId: 'ab'.repeat(32),
  bootstrap: [`/ip4/127.0.0.1/tcp/4001/ws/p2p/${RELAY}`, `/ip4/127.0.0.1/tcp/4001/ws/p2p/${RELAY}/p2p-circuit/webrtc/p2p/${ID}`],
  inviter: ID,
};
const b64 = (s: string) => Buffer.from(s).toString('base64url');

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), m };
}

describe('invite links', () => {
  it('round-trips a join through the #join= fragment, and stores it', () => {
    const link = inviteLink('http://psiweb.localhost:8080', join);
    expect(link.startsWith('http://psiweb.localhost:8080/#join=')).toBe(true);
    expect(decodeInvite(encodeInvite(join))).toEqual(join);
    const storage = memoryStorage();
    let cleared = 0;
    const out = consumeJoinFragment(new URL(link).hash, storage, () => void cleared++);
    expect(out).toEqual({ ok: true, join });
    expect(cleared).toBe(1);
    expect(storedJoin(storage)).toEqual(join);
    expect(consumeJoinFragment('#other', storage, () => undefined)).toBeUndefined();
  });

  it('refuses a malformed payload with an InviteError and stores nothing', () => {
    const bad = [
      '',
      '%%%',
      b64('not json'),
      b64('[1]'),
      b64(JSON.stringify({ ...join, chainId: 'xyz' })),
      b64(JSON.stringify({ ...join, inviter: 'me' })),
      b64(JSON.stringify({ ...join, bootstrap: [] })),
      b64(JSON.stringify({ ...join, bootstrap: ['/ip4/1.2.3.4/tcp/1/ws'] })),
      b64(JSON.stringify({ ...join, bootstrap: Array(17).fill(join.bootstrap[0]) })),
      b64(JSON.stringify({ ...join, v: 2 })),
      'A'.repeat(9000),
    ];
    for (const p of bad) {
      expect(() => decodeInvite(p), p.slice(0, 40)).toThrow(InviteError);
      const storage = memoryStorage();
      let cleared = 0;
      const out = consumeJoinFragment(`#join=${p}`, storage, () => void cleared++);
      expect(out?.ok, p.slice(0, 40)).toBe(false);
      expect(out && !out.ok && out.error).toMatch(/not valid/);
      expect(storage.m.has(JOIN_SETTING)).toBe(false);
      expect(cleared).toBe(0);
    }
  });
});
