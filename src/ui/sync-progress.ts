import { css, html } from 'lit';
import { NodeElement } from './node-element.ts';

const eta = (sec: number) => (sec < 60 ? `${Math.ceil(sec)} s` : sec < 3600 ? `${Math.floor(sec / 60)} min ${Math.ceil(sec % 60)} s` : `${(sec / 3600).toFixed(1)} h`);

/** Sync progress: blocks behind the peer, blocks/s (with the time left at that rate) and transfers/s applied. */
export class SyncProgress extends NodeElement {
  static override styles = css`
    :host { display: block; font: 14px system-ui, sans-serif; }
    progress { width: 100%; max-width: 30em; }
    span { margin-right: 1.5em; font-variant-numeric: tabular-nums; }
  `;

  override render() {
    const s = this.status;
    if (!s) return html`<span>Sync: waiting for the node…</span>`;
    const head = s.head?.num ?? 0;
    const target = s.peerHead ?? head;
    return html`
      <progress max=${Math.max(1, target)} value=${head}></progress>
      <div>
        <span data-field="behind">${!s.peerOnline ? `peer unreachable${s.peerHead !== null ? ` (its last head ${s.peerHead})` : ''}` : s.behind === 0 ? 'in sync' : `${s.behind} blocks behind`}</span>
        <span data-field="blocks-per-sec">${s.blocksPerSec.toFixed(1)} blocks/s</span>
        ${s.behind > 0 && s.blocksPerSec > 0 ? html`<span data-field="eta">ETA ${eta(s.behind / s.blocksPerSec)}</span>` : ''}
        <span data-field="transfers-per-sec">${s.transfersPerSec.toFixed(0)} transfers/s</span>
        ${s.pendingTransactions > 0 ? html`<span data-field="pending">${s.pendingTransactions} transactions waiting</span>` : ''}
        ${s.paused ? html`<span data-field="paused">paused for an update</span>` : ''}
      </div>
    `;
  }
}
customElements.define('psiweb-sync-progress', SyncProgress);
