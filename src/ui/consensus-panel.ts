import { html } from 'lit';
import { ago, type DashboardStatus } from './dashboard-data.ts';
import { producers } from './dashboard-sources.ts';
import { panelStyles } from './dashboard-styles.ts';
import { NodeElement } from './node-element.ts';

/**
 * Consensus mode, this node's role and the producers, from this browser's own chain
 * state (`producers` GraphQL through the root service worker, so offline too), read again
 * as the head moves. The node's role comes from its status view when it says (issue 11's
 * browser producers); until then the browser node is a follower without a vote.
 */
export class ConsensusPanel extends NodeElement {
  static override styles = panelStyles;
  private unsubscribe2: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.unsubscribe2 = producers.subscribe(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    this.unsubscribe2?.();
    super.disconnectedCallback();
  }

  override render() {
    const s = this.status as DashboardStatus | undefined;
    const r = producers.reading;
    // A producing browser's node says what its consensus holds (a set named by a block not yet irreversible too).
    const c = s?.consensus;
    const mode = c?.mode ?? r.value?.consensus;
    const list = c?.producers ?? r.value?.producers;
    const next = c ? (c.nextProducers ?? []) : (r.value?.nextProducers ?? []);
    const stale = r.error !== undefined && r.value !== undefined;
    const role =
      s?.producer !== undefined
        ? s.producing
          ? `producer ${s.producer}${c?.leader === s.producer ? ', leading this term' : c?.leader ? ` (leader: ${c.leader})` : ''}`
          : list?.includes(s.producer)
            ? `producer ${s.producer}, not producing now (paused or halted)`
            : `producer ${s.producer}, not in the set (a candidate)`
        : (s?.role ?? (s ? 'follower' : undefined));
    return html`<h2>Consensus ${stale ? html`<span class="badge" data-field="producers-stale" title=${r.error!}>stale: read ${ago(r.okAt!, Date.now())}</span>` : ''}</h2>
      <dl>
        <dt>Mode</dt><dd data-field="consensus" ?data-stale=${stale}>${mode === undefined ? '—' : mode === 'cft' ? 'CFT (crash fault tolerant)' : 'BFT (Byzantine fault tolerant)'}</dd>
        <dt>This node</dt>
        <dd data-field="node-role" title=${s?.role || s?.producer !== undefined ? 'from the node' : 'the browser node runs the node core as a follower without a vote'}>${role ?? '—'}</dd>
        <dt>Producers</dt>
        <dd data-field="producers" ?data-stale=${stale}>${list === undefined ? (r.error ? html`<span class="stale">${r.error}</span>` : '—') : list.length === 0 ? 'none' : list.map((p, i) => html`${i ? ', ' : ''}<code data-producer=${p}>${p}</code>`)}</dd>
        ${next.length ? html`<dt>Changing to</dt><dd data-field="next-producers">${next.map((p, i) => html`${i ? ', ' : ''}<code data-producer=${p}>${p}</code>`)}</dd>` : ''}
      </dl>
      ${this.renderLiveness(s)}`;
  }

  /** A producing browser: its tab hidden (it goes on producing from its worker), and the slots it missed when it could not run. */
  private renderLiveness(s: DashboardStatus | undefined) {
    const l = s?.producer !== undefined ? s.liveness : undefined;
    if (!l) return '';
    const stall = l.lastStall;
    return html`${l.hidden ? html`<p class="note" data-field="hidden">This tab is hidden: its node keeps producing from its worker, which the browser does not throttle as it does a hidden tab.</p>` : ''}
    ${l.missedSlots > 0 && stall
      ? html`<p class="warn" role="alert" data-field="missed-slots">
          Missed ${l.missedSlots} block slot${l.missedSlots === 1 ? '' : 's'} in the last minute: this browser did not run its node for ${(stall.ms / 1000).toFixed(1)} s
          (${ago(stall.at, Date.now())}). The browser froze or suspended this tab, or the machine slept; the other producers went on without it.
          Keep this tab open (visible if the browser freezes hidden tabs) and the machine awake to keep its slots.
        </p>`
      : ''}`;
  }
}
customElements.define('psiweb-consensus', ConsensusPanel);
