import { describe, expect, it } from 'vitest';
import { privateKeyFromPem, publicKeyToPem } from '../../crypto/keys.ts';
import { devnetKey } from '../devnet.ts';
import { runDevkey } from './devkey.ts';
import { capturingIo, UsageError } from './io.ts';

describe('psiweb devkey', () => {
  it("prints alice's devnet key as a PKCS#8 PEM whose public key is the one the devnet gives alice", async () => {
    const io = capturingIo();
    expect(await runDevkey(['alice'], io)).toBe(0);
    expect(io.out).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const key = await privateKeyFromPem(io.out);
    expect(key.publicKeyDer).toEqual((await devnetKey('alice')).publicKeyDer);
    const pub = capturingIo();
    await runDevkey(['alice', '--public'], pub);
    expect(pub.out).toBe(publicKeyToPem((await devnetKey('alice')).publicKeyDer));
  });

  it('refuses a bad name, no name, two names and unknown options', async () => {
    for (const argv of [['Not A Name'], [], ['alice', 'bob'], ['alice', '--x']]) {
      const io = capturingIo();
      await expect(runDevkey(argv, io)).rejects.toThrow(UsageError);
      expect(io.out).toBe('');
    }
  });
});
