/**
 * A Node peer's libp2p host as a process of its own, for the browser tests to stop:
 * prints `RELAY <multiaddr>` once it listens, answers each psibase message on a peer
 * stream with the same message (so a browser can check the Node peer hears it), stops
 * on SIGTERM.
 */
import { startNodeHost } from '../../src/net/libp2p/node-host.ts';

const host = await startNodeHost({
  onPeer: (s) => s.on('message', (data) => void s.send(data)),
});
process.stdout.write(`RELAY ${String(host.addresses()[0])}\n`);
process.on('SIGTERM', () => {
  void host.stop().finally(() => process.exit(0));
});
