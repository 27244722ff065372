#!/usr/bin/env -S npx tsx
/**
 * The `psiweb` command for Node:
 *   start  run a producing node with the PWA and the chain's web services
 *   devnet run N producer nodes on one chain (consensus), Ctrl-C stops all
 *   exec   run one action or HTTP request of a service module on a scratch chain
 *   push   sign and push one action to a node
 *   create, deploy, upload  psibase's commands: an account, a service, a site's files
 *   new, build  a new app project; compile its AssemblyScript service
 *   check  re-verify a stopped node's data directory (checksums, block log, replay)
 *   devkey print a devnet account's dev key as a PEM (to import in the browser)
 * Exit codes: 0 done, 1 the operation failed, 2 bad usage.
 */
import { PsiwebError } from '../src/errors.ts';
import { BUILD_USAGE, runBuild } from '../src/node/cli/build.ts';
import { CHECK_USAGE, runCheck } from '../src/node/cli/check.ts';
import { CREATE_USAGE, runCreate } from '../src/node/cli/create.ts';
import { DEPLOY_USAGE, runDeploy } from '../src/node/cli/deploy.ts';
import { DEVNET_USAGE, runDevnet } from '../src/node/cli/devnet.ts';
import { DEVKEY_USAGE, runDevkey } from '../src/node/cli/devkey.ts';
import { EXEC_USAGE, runExec } from '../src/node/cli/exec.ts';
import { EXIT_FAILED, EXIT_USAGE, UsageError, processIo, type CliIo } from '../src/node/cli/io.ts';
import { NEW_USAGE, runNew } from '../src/node/cli/new.ts';
import { PUSH_USAGE, runPush } from '../src/node/cli/push.ts';
import { START_USAGE, runStart } from '../src/node/cli/start.ts';
import { UPLOAD_USAGE, runUpload } from '../src/node/cli/upload.ts';

const COMMANDS: Record<string, { usage: string; run: (argv: string[], io: CliIo) => Promise<number> }> = {
  start: { usage: START_USAGE, run: runStart },
  devnet: { usage: DEVNET_USAGE, run: runDevnet },
  exec: { usage: EXEC_USAGE, run: runExec },
  push: { usage: PUSH_USAGE, run: runPush },
  create: { usage: CREATE_USAGE, run: runCreate },
  deploy: { usage: DEPLOY_USAGE, run: runDeploy },
  upload: { usage: UPLOAD_USAGE, run: runUpload },
  new: { usage: NEW_USAGE, run: runNew },
  build: { usage: BUILD_USAGE, run: runBuild },
  check: { usage: CHECK_USAGE, run: runCheck },
  devkey: { usage: DEVKEY_USAGE, run: runDevkey },
};

const USAGE = `usage: psiweb <command> [options]\n\n${Object.values(COMMANDS)
  .map((c) => c.usage)
  .join('\n\n')}`;

async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout(`${USAGE}\n`);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`psiweb: unknown command '${name}'\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`psiweb ${name}: ${e.message}\n\n${command.usage}\n`);
      return EXIT_USAGE;
    }
    // Our own errors carry a message meant for people; anything else is a bug: show the stack.
    io.stderr(`psiweb ${name}: ${e instanceof PsiwebError ? `${e.message}` : ((e as Error).stack ?? String(e))}\n`);
    return EXIT_FAILED;
  }
}

// Exit explicitly: a CLI run must not linger on sockets or timers left open by libraries.
process.exit(await main(process.argv.slice(2), processIo));
