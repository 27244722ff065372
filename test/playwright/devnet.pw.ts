// Two tests in one worker: each gets a fresh devnet (its own peer and chain state) in a
// new context of the worker's one browser, and reads through the root origin offline.
import { expect } from '@playwright/test';
import { test } from 'psiweb/playwright';

test.use({ psiweb: { distDir: process.env.PSIWEB_DIST } });

const peers: string[] = [];
const browsers = new Set<unknown>();

for (const name of ['first', 'second']) {
  test(`${name} test: a fresh devnet in the worker's browser, read offline`, async ({ devnet, page }) => {
    browsers.add(devnet.browser);
    expect(browsers.size).toBe(1);
    expect(peers).not.toContain(devnet.peer.url);
    peers.push(devnet.peer.url);
    await devnet.waitForSync();
    const read = () => page.evaluate(async () => ((await (await fetch('/_svc/tokens/balances/alice')).json()) as { balance: string }).balance);
    // The first test's transfer is not in the second test's chain.
    expect(await read()).toBe('500000');
    const sent = await devnet.push('alice', 'tokens', 'transfer', { to: 'bob', amount: '25', memo: name });
    expect(sent.error).toBeNull();
    await devnet.waitForSync();
    expect(await read()).toBe('499975');
    await devnet.offline();
    expect(await read()).toBe('499975');
    await devnet.online();
  });
}
