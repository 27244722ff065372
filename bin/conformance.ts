/**
 * `npm run conformance -- fracpack FILE` / `-- names FILE` / `-- p2p FILE`: check a vector file,
 * print one line per failure and a final "N passed, M failed".
 */
import { readFileSync } from 'node:fs';
import { checkP2pVectors } from '../src/net/wire/conformance.ts';
import { runConformance } from '../src/protocol/conformance.ts';

const { code, lines } = runConformance(process.argv.slice(2), (p) => readFileSync(p, 'utf8'), { p2p: checkP2pVectors });
for (const line of lines) (code === 2 ? console.error : console.log)(line);
process.exitCode = code;
