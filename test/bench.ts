/**
 * `npm run bench`: runs every `*.bench.ts` under src/ and services/ (default export:
 * BenchFile) and
 * prints the figures as a table, then as JSON (also written to bench-results.json).
 * `npm run bench -- state` runs only bench files whose path contains "state".
 *
 * Exits 1 when any declared target is missed (or a bench file failed), after a last
 * line naming each one (figure, measured, target); 0 only when every target is met.
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { formatValue as fmt, missedTargets, verdict, type BenchContext, type BenchFile, type Figure } from './bench-kit.ts';
import { openSourcePage, type TestPage } from './browser/page-server.ts';

function findBenchFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...findBenchFiles(p));
    else if (entry.endsWith('.bench.ts')) out.push(p);
  }
  return out.sort();
}

const filters = process.argv.slice(2);
const files = [...findBenchFiles('src'), ...findBenchFiles('services')].filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
let testPage: TestPage | undefined;
const ctx: BenchContext = {
  async page(): Promise<Page> {
    testPage ??= await openSourcePage();
    return testPage.page;
  },
};

const figures: Figure[] = [];
/** Bench files that threw: their figures are missing, which is a failure too. */
const failed: { file: string; error: string }[] = [];
if (files.length === 0) failed.push({ file: filters.join(' '), error: 'no bench file matches' });
try {
  for (const file of files) {
    process.stderr.write(`bench ${relative('.', file)} …\n`);
    try {
      const mod = (await import(pathToFileURL(file).href)) as { default: BenchFile };
      figures.push(...(await mod.default(ctx)));
    } catch (e) {
      const error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      process.stderr.write(`bench ${relative('.', file)} failed: ${error}\n`);
      failed.push({ file: relative('.', file), error: e instanceof Error ? e.message : String(e) });
    }
  }
} finally {
  await testPage?.close();
}

const rows = figures.map((f) => [
  f.name,
  f.env,
  `${fmt(f.value)} ${f.unit}`,
  f.target ?? '',
  f.met === undefined ? '' : f.met ? 'yes' : 'NO',
  f.how ?? '',
]);
const header = ['benchmark', 'env', 'measured', 'target', 'met', 'how'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
console.log(line(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of rows) console.log(line(r));
const missed = missedTargets(figures);
const json = JSON.stringify({ date: new Date().toISOString(), figures, missed: missed.map((f) => f.name), failed }, null, 2);
console.log(json);
writeFileSync('bench-results.json', json + '\n');

// The last line: every missed target by name, or that all were met.
const { ok, line: last } = verdict(figures, failed);
console.log(last);
if (!ok) process.exitCode = 1;
