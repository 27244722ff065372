/**
 * Browsers that produce one network together (issue 11 §3), for the producer-set
 * browser test and the browser-producers bench: one browser creates a network, the
 * others join by its invite, offer to produce from the dashboard, and the creator names
 * them all.
 */
import type { Page } from 'playwright-core';
import { ownStatus, until, type OwnStatus } from '../../src/node/browser/testing.ts';

const status = async (p: Page): Promise<OwnStatus> => (await ownStatus(p)) ?? ({} as OwnStatus);

/** Clicks a button of the dashboard's networks panel. */
export async function clickNetworks(page: Page, id: string): Promise<void> {
  await until(
    () =>
      page.evaluate((id) => {
        const b = document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-networks')?.shadowRoot?.querySelector<HTMLButtonElement>(`#${id}`);
        if (!b || b.disabled) return undefined;
        b.click();
        return true;
      }, id),
    30_000,
    `the ${id} button`,
  );
}

/** The networks panel's error line, if any. */
const panelError = (page: Page) =>
  page.evaluate(() => document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-networks')?.shadowRoot?.querySelector('[data-field="network-error"]')?.textContent ?? null);

/** A field of the dashboard's consensus panel (its text), or null when it shows none. */
export const consensusField = (p: Page, f: string): Promise<string | null> =>
  p.evaluate((f) => document.querySelector('psiweb-app')?.shadowRoot?.querySelector('psiweb-consensus')?.shadowRoot?.querySelector(`[data-field="${f}"]`)?.textContent ?? null, f);

/** The term's leader, as the first of `all` that knows says. */
export function currentLeader(all: Page[]): Promise<string> {
  return until(
    async () => {
      for (const p of all) {
        const l = (await status(p)).leader;
        if (l) return l;
      }
      return undefined;
    },
    30_000,
    'the leader',
  );
}

/** The status of a page that opened `#create`, once its network is producing with an invite link and libp2p on. */
export function createdNetwork(page: Page): Promise<OwnStatus> {
  return until(
    async () => {
      const s = await status(page);
      return s.role === 'producer' && s.producing && s.invite && s.libp2pState === 'on' && (s.head?.num ?? 0) >= 3 ? s : undefined;
    },
    120_000,
    'the created network producing, with an invite link',
  );
}

/**
 * `count` browsers: the first creates a network, the others join by its invite and
 * offer to produce, and the first names them all in `mode`. Resolves once the set of
 * `count` is in force and producing on every one, with blocks finalised since.
 */
export async function growProducers(open: (url: string) => Promise<Page>, peerUrl: string, mode: 'bft' | 'cft', count: number): Promise<{ all: Page[]; names: string[] }> {
  const a = await open(`${peerUrl}/#create`);
  const made = await createdNetwork(a);
  const joiners: Page[] = [];
  for (let i = 1; i < count; i++) joiners.push(await open(made.invite!));
  for (const [i, p] of joiners.entries()) {
    await until(async () => ((await status(p)).chainId === made.chainId && ((await status(p)).head?.num ?? 0) >= 3) || undefined, 120_000, `joiner ${i + 1} synced`);
  }
  // Each offers to produce: it runs as its new producer account, a candidate.
  const names = ['prod'];
  for (const [i, p] of joiners.entries()) {
    await clickNetworks(p, 'offer-produce');
    const s = await until(
      async () => {
        const s = await status(p);
        if ((await panelError(p)) !== null) throw new Error(`joiner ${i + 1}: ${await panelError(p)}`);
        return s.role === 'producer' && s.producer ? s : undefined;
      },
      120_000,
      `joiner ${i + 1} a candidate producer`,
    );
    if (s.producing) throw new Error(`joiner ${i + 1} produces before the set names it`);
    names.push(s.producer!);
  }
  // The creator names every candidate.
  await clickNetworks(a, `set-producers-${mode}`);
  const all = [a, ...joiners];
  const inForce = async (p: Page) => {
    const s = await status(p);
    return s.consensus === mode && s.producers.length === count && s.producing === true ? s : undefined;
  };
  for (const [i, p] of all.entries()) await until(() => inForce(p), 120_000, `browser ${i + 1} producing under the ${mode.toUpperCase()} set of ${count}`);
  const named = [...(await status(a)).producers].sort().join();
  if (named !== [...names].sort().join()) throw new Error(`the set in force is ${named}, not ${[...names].sort().join()}`);
  // A joiner's dashboard says so: the mode, and this browser a producer of the set.
  const modeText = mode === 'cft' ? 'CFT (crash fault tolerant)' : 'BFT (Byzantine fault tolerant)';
  await until(
    async () => ((await consensusField(all[1]!, 'consensus')) === modeText && (await consensusField(all[1]!, 'node-role'))?.startsWith(`producer ${names[1]}`) === true) || undefined,
    20_000,
    "a joiner's consensus panel showing the mode and it a producer",
  );
  const mark = Math.max(...(await Promise.all(all.map(async (p) => (await status(p)).irreversible?.num ?? 0))));
  for (const [i, p] of all.entries()) await until(async () => ((await status(p)).irreversible?.num ?? 0) >= mark + 5 || undefined, 60_000, `browser ${i + 1} finalising`);
  return { all, names };
}

/** Closes the browser of the term's leader (as the first browser sees it); the rest must go on finalising. */
export async function closeLeader(all: Page[], names: string[]): Promise<Page[]> {
  const leader = await currentLeader(all);
  const gone = all[names.indexOf(leader)];
  if (!gone) throw new Error(`the leader ${leader} is none of ${names.join(', ')}`);
  await gone.context().close();
  const rest = all.filter((p) => p !== gone);
  const before = Math.max(...(await Promise.all(rest.map(async (p) => (await status(p)).irreversible?.num ?? 0))));
  for (const [i, p] of rest.entries()) await until(async () => ((await status(p)).irreversible?.num ?? 0) >= before + 5 || undefined, 90_000, `browser ${i + 1} of ${rest.length} finalising without ${leader}`);
  return rest;
}

