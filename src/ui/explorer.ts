import { css, html, type PropertyValues } from 'lit';
import { blockTimesSeen, readsHeld } from './dashboard-sources.ts';
import { NodeElement } from './node-element.ts';

/** How many of the latest blocks the explorer shows. */
export const EXPLORER_BLOCKS = 10;
const MIN_INTERVAL_MS = 1_000;

const QUERY = `query { blocks(last: ${EXPLORER_BLOCKS}) { edges { node { header { blockNum time producer } transactions { transaction { actions { sender service method } } } } } } }`;

interface ExplorerBlock {
  header: { blockNum: number; time: string; producer: string };
  transactions: { transaction: { actions: { sender: string; service: string; method: string }[] } }[];
}

/**
 * Recent blocks and their transactions, read with psibase's explorer query
 * (`explorer.<root>/graphql`) through the root service worker, so from this browser's
 * own chain state — offline too. Asked again when the node reports a new head (at most once a second).
 */
export class ExplorerPanel extends NodeElement {
  static override properties = { ...NodeElement.properties, blocks: { state: true }, error: { state: true } };
  static override styles = css`
    :host { display: block; font: 14px system-ui, sans-serif; border: 1px solid #e2e2e2; border-radius: 6px; padding: 0.6em 0.9em; background: #fff; }
    h2 { font-size: 1em; margin: 0 0 0.4em; }
    ol { list-style: none; padding: 0; margin: 0; }
    li { padding: 0.25em 0; border-top: 1px solid #eee; font-variant-numeric: tabular-nums; }
    .meta { color: #555; }
    ul { margin: 0.2em 0 0 1.2em; padding: 0; }
    code { font-size: 12px; }
  `;
  declare blocks: ExplorerBlock[] | undefined;
  declare error: string | undefined;
  private asked = 0;
  private shownHead: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastAsk = 0;
  /** A head changed while a query was waiting or running: ask once more after it. */
  private pending = false;

  override connectedCallback(): void {
    super.connectedCallback();
    this.request();
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    const head = this.status?.head?.num;
    if (head !== undefined && head !== this.shownHead) {
      this.shownHead = head;
      this.request();
    }
  }

  /**
   * One query at a time, at most one a second: while a node syncs, heads change faster
   * than anyone reads them, and the worker's time is the sync's.
   */
  private request(): void {
    if (this.timer !== undefined) {
      this.pending = true;
      return;
    }
    if (readsHeld()) return;
    const wait = Math.max(0, this.lastAsk + MIN_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.lastAsk = Date.now();
      void this.load().finally(() => {
        this.timer = undefined;
        if (this.pending) {
          this.pending = false;
          this.request();
        }
      });
    }, wait);
  }

  private async load(): Promise<void> {
    const ask = ++this.asked;
    try {
      const r = await fetch('/_svc/explorer/graphql', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ query: QUERY }) });
      const json = (await r.json()) as { data?: { blocks: { edges: { node: ExplorerBlock }[] } }; errors?: { message: string }[] };
      if (ask !== this.asked) return;
      if (json.errors?.length || !json.data) throw new Error(json.errors?.[0]?.message ?? `explorer answered ${r.status}`);
      this.blocks = json.data.blocks.edges.map((e) => e.node).reverse();
      this.error = undefined;
      blockTimesSeen(this.blocks.map((b) => ({ num: b.header.blockNum, time: b.header.time })));
    } catch (e) {
      if (ask === this.asked) this.error = (e as Error).message;
    }
  }

  override render() {
    return html`<h2>Recent blocks</h2>
      ${this.error ? html`<p data-field="explorer-error">${this.error}${this.blocks ? ' (showing the blocks last read)' : ''}</p>` : ''}
      ${this.blocks === undefined
        ? html`<p>—</p>`
        : html`<ol>
            ${this.blocks.map(
              (b) => html`<li data-block=${b.header.blockNum}>
                <strong>#${b.header.blockNum}</strong>
                <span class="meta">${b.header.time} · ${b.header.producer} · ${b.transactions.length} transaction${b.transactions.length === 1 ? '' : 's'}</span>
                ${b.transactions.length
                  ? html`<ul>
                      ${b.transactions.map(
                        (t) => html`<li data-transaction>${t.transaction.actions.map((a) => html`<code data-action>${a.sender ? `${a.sender} → ` : ''}${a.service}::${a.method}</code> `)}</li>`,
                      )}
                    </ul>`
                  : ''}
              </li>`,
            )}
          </ol>`}`;
  }
}
customElements.define('psiweb-explorer', ExplorerPanel);
