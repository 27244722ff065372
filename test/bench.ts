/**
 * `npm run bench`: runs every `*.bench.ts` under src/ and services/ (default export:
 * BenchFile) and
 * prints the figures as a table, then as JSON (also written to bench-results.json).
 * `npm run bench -- state` runs only bench files whose path contains "state".
 */
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import type { BenchContext, BenchFile, Figure } from './bench-kit.ts';
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
try {
  for (const file of files) {
    process.stderr.write(`bench ${relative('.', file)} …\n`);
    const mod = (await import(pathToFileURL(file).href)) as { default: BenchFile };
    figures.push(...(await mod.default(ctx)));
  }
} finally {
  await testPage?.close();
}

const fmt = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3));
const rows = figures.map((f) => [
  f.name,
  f.env,
  `${fmt(f.value)} ${f.unit}`,
  f.target ?? '',
  f.met === undefined ? '' : f.met ? 'yes' : 'NO',
]);
const header = ['benchmark', 'env', 'measured', 'target', 'met'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => '| ' + r.map((c, i) => c.padEnd(widths[i]!)).join(' | ') + ' |';
console.log(line(header));
console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
for (const r of rows) console.log(line(r));
const json = JSON.stringify({ date: new Date().toISOString(), figures }, null, 2);
console.log(json);
writeFileSync('bench-results.json', json + '\n');
