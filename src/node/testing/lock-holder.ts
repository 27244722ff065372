/**
 * A child process for data-dir.test.ts: takes the lock on argv[2] and reports
 * `locked <pid>` or `refused <message>` on stdout. With `hold MS` it keeps the lock that
 * long and releases it; with `exit` it exits at once without releasing (as a crash).
 * With AT (epoch ms), it waits until then, so racing holders try at the same instant.
 */
import { lockDataDir } from '../data-dir.ts';

const [dir, mode = 'hold', ms = '1500', at] = process.argv.slice(2);
if (at !== undefined) while (Date.now() < Number(at)) await new Promise((r) => setTimeout(r, Math.min(20, Number(at) - Date.now())));
try {
  const lock = await lockDataDir(dir!);
  process.stdout.write(`locked ${process.pid}\n`);
  if (mode === 'exit') process.exit(0);
  await new Promise((r) => setTimeout(r, Number(ms)));
  await lock.release();
} catch (e) {
  process.stdout.write(`refused ${(e as Error).message}\n`);
}
