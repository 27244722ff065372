import { html } from 'lit';
import { ago, statusStale, type DashboardStatus } from './dashboard-data.ts';
import { onTick } from './dashboard-sources.ts';
import { panelStyles } from './dashboard-styles.ts';
import { NodeElement } from './node-element.ts';

/**
 * Head, irreversible block, sync state and the peer this browser syncs from. When the
 * node's status stops coming (no tab runs the node, or it hangs) the last values stay,
 * marked stale with their age; when the peer is unreachable, its last head is marked so.
 */
export class ChainStatus extends NodeElement {
  static override styles = panelStyles;
  private untick: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.untick = onTick(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    this.untick?.();
    super.disconnectedCallback();
  }

  private syncState(s: DashboardStatus): string {
    const how = s.sync === 'p2p' ? `peer protocol over WebSocket, ${s.peerConnected ? 'connected' : 'not connected'}` : 'HTTP block ranges';
    const state = s.paused ? 'paused for an update' : s.error ? 'stopped' : !s.peerOnline ? 'peer unreachable: serving local state' : s.behind > 0 ? `catching up, ${s.behind} behind` : 'in sync';
    return `${state} (${how})`;
  }

  override render() {
    const s = this.status as DashboardStatus | undefined;
    const now = Date.now();
    const stale = s !== undefined && statusStale(s, now);
    const role = this.nodeRole === 'leader' ? 'this tab runs the node' : this.nodeRole === 'waiting' ? 'another tab runs the node' : this.nodeRole;
    return html`<h2>Chain ${stale ? html`<span class="badge" data-field="status-stale">stale: last status ${ago(s!.updatedAt, now)}</span>` : ''}</h2>
      <dl>
        <dt>Node</dt><dd data-field="role">${role}</dd>
        <dt>Head</dt><dd data-field="head" ?data-stale=${stale}>${s?.head ? html`${s.head.num} <code>${s.head.id.slice(0, 16)}…</code>` : '—'}</dd>
        <dt>Irreversible</dt><dd data-field="irreversible" ?data-stale=${stale}>${s?.irreversible ?? '—'}</dd>
        <dt>Sync</dt><dd data-field="sync" data-mode=${s?.sync ?? ''} ?data-stale=${stale}>${s ? this.syncState(s) : '—'}</dd>
        <dt>Peer</dt><dd data-field="peer" ?data-stale=${stale || (s !== undefined && !s.peerOnline)}>${s ? html`${s.peerUrl} — ${s.peerOnline ? html`online, head ${s.peerHead ?? '—'}` : html`unreachable${s.peerHead !== null ? html`, <span class="stale">last head ${s.peerHead}</span>` : ''}`}` : '—'}</dd>
        ${s?.error ? html`<dt>Error</dt><dd data-field="error">${s.error}</dd>` : ''}
      </dl>`;
  }
}
customElements.define('psiweb-chain-status', ChainStatus);
