import { css, html } from 'lit';
import { NodeElement } from './node-element.ts';

/** Head, irreversible block and the peer this browser syncs from. */
export class ChainStatus extends NodeElement {
  static override styles = css`
    :host { display: block; font: 14px system-ui, sans-serif; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; margin: 0.5em 0; }
    dt { color: #555; }
    dd { margin: 0; font-variant-numeric: tabular-nums; }
    code { font-size: 12px; }
  `;

  override render() {
    const s = this.status;
    const role = this.nodeRole === 'leader' ? 'this tab runs the node' : this.nodeRole === 'waiting' ? 'another tab runs the node' : this.nodeRole;
    return html`<dl>
      <dt>Node</dt><dd data-field="role">${role}</dd>
      <dt>Head</dt><dd data-field="head">${s?.head ? html`${s.head.num} <code>${s.head.id.slice(0, 16)}…</code>` : '—'}</dd>
      <dt>Irreversible</dt><dd data-field="irreversible">${s?.irreversible ?? '—'}</dd>
      <dt>Peer</dt><dd data-field="peer">${s ? html`${s.peerUrl} — ${s.peerOnline ? html`online, head ${s.peerHead ?? '—'}` : 'unreachable'}` : '—'}</dd>
      ${s?.error ? html`<dt>Error</dt><dd data-field="error">${s.error}</dd>` : ''}
    </dl>`;
  }
}
customElements.define('psiweb-chain-status', ChainStatus);
