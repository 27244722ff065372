import { html } from 'lit';
import { browserPeers } from '../node/browser/net-status.ts';
import { ago, type DashboardStatus, type PeerView } from './dashboard-data.ts';
import { NATIVE_TIMEOUT_MS, nativeStatus, onTick } from './dashboard-sources.ts';
import { panelStyles } from './dashboard-styles.ts';
import { NodeElement } from './node-element.ts';

const rtt = (ms: number | undefined) => (ms === undefined ? '—' : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`);

/**
 * This node's peers (transport, direction, head, round trip), and the Node peer's own
 * view from its `/native/status` (its role and its peers, round trips as it measures
 * them). With libp2p on, the node's peers are its libp2p peers (WebRTC browsers, the
 * Node peer over a WebSocket) with libp2p's ping round trips, from the leader's status;
 * otherwise the one peer is the Node peer it syncs from, with the round trip of this
 * page's `/native/status` polls. The Invite button shows and copies the invite link.
 * Unreachable: last values kept, marked stale.
 */
export class PeersPanel extends NodeElement {
  static override styles = panelStyles;
  private off: (() => void)[] = [];

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = [nativeStatus.subscribe(() => this.requestUpdate()), onTick(() => this.requestUpdate())];
  }

  override disconnectedCallback(): void {
    this.off.forEach((f) => f());
    super.disconnectedCallback();
  }

  private inviteShown = false;
  private copied = false;

  private ownPeers(s: DashboardStatus): { peers: PeerView[]; measured: 'node' | 'page' } {
    if (s.peers) return { peers: s.peers, measured: 'node' };
    // The node's libp2p peers (and its x-peers WebSocket), round trips as libp2p's ping measures them.
    if (s.net && s.net.libp2p !== 'off') return { peers: browserPeers(s) as PeerView[], measured: 'node' };
    const r = nativeStatus.reading;
    const transport = s.sync === 'p2p' && s.peerConnected ? 'websocket' : 'http';
    const online = s.sync === 'p2p' ? s.peerConnected === true : s.peerOnline;
    if (!online) return { peers: [], measured: 'page' };
    return {
      peers: [{ id: 'Node peer', transport, direction: 'out', url: s.peerUrl, ...(s.peerHead !== null && { head: { num: s.peerHead, id: '' } }), ...(r.error === undefined && r.rttMs !== undefined && { rttMs: r.rttMs }) }],
      measured: 'page',
    };
  }

  private table(peers: PeerView[], field: string, rttTitle: string) {
    return html`<table data-field=${field}>
      <tr><th>Peer</th><th>Transport</th><th>Direction</th><th>Head</th><th title=${rttTitle}>RTT</th></tr>
      ${peers.map(
        (p) => html`<tr data-peer=${String(p.id)} data-transport=${p.transport}>
          <td>${p.url ?? p.id}</td><td>${p.transport}</td><td>${p.direction === 'out' ? 'dialed' : 'dialed in'}</td>
          <td>${p.head?.num ?? '—'}</td><td data-field="rtt" title=${rttTitle}>${rtt(p.rttMs)}</td>
        </tr>`,
      )}
    </table>`;
  }

  private async copyInvite(link: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(link);
      this.copied = true;
    } catch {
      // No clipboard permission: the link is shown to copy by hand.
      this.copied = false;
    }
    this.requestUpdate();
  }

  private invite(s: DashboardStatus | undefined) {
    const link = s?.net?.invite ?? null;
    const state = s?.net?.libp2p;
    return html`<p>
        <button data-field="invite-button" ?disabled=${!link} title=${link ? 'Show and copy the invite link' : state === 'off' ? `no invite: ${s?.net?.reason ?? 'libp2p is off'}` : 'waiting for libp2p'}
          @click=${() => {
            this.inviteShown = true;
            if (link) void this.copyInvite(link);
            this.requestUpdate();
          }}>Invite</button>
        ${state ? html`<span class="note" data-field="libp2p-state">libp2p ${state}${s?.net?.peerId ? html` as <code>${s.net.peerId.slice(-8)}</code>` : ''}</span>` : ''}
      </p>
      ${this.inviteShown && link
        ? html`<p><input data-field="invite-link" readonly .value=${link} style="width:100%" @focus=${(e: Event) => (e.target as HTMLInputElement).select()} />
            <span class="note">${this.copied ? 'Copied. ' : ''}Open it in another browser (or profile) to join this network.</span></p>`
        : ''}`;
  }

  override render() {
    const s = this.status as DashboardStatus | undefined;
    const r = nativeStatus.reading;
    const n = r.value;
    // Failed, or (a hung ask) not read for a while.
    const stale = r.error !== undefined || (r.okAt !== undefined && Date.now() - r.okAt > 3 * NATIVE_TIMEOUT_MS);
    const own = s ? this.ownPeers(s) : undefined;
    const ownTitle = own?.measured === 'node' ? "this node's ping round trip" : "this page's GET /native/status round trip to the Node peer (HTTP, includes the peer's answer time)";
    return html`<h2>Peers</h2>
      ${this.invite(s)}
      ${own === undefined ? html`<p>—</p>` : own.peers.length === 0 ? html`<p data-field="no-peers">No peer connected${s?.peerOnline === false ? ': the Node peer is unreachable' : ''}.</p>` : this.table(own.peers, 'peers', ownTitle)}
      <h2>Node peer ${stale && n ? html`<span class="badge" data-field="native-stale" title=${r.error ?? 'no answer'}>unreachable: last seen ${ago(r.okAt!, Date.now())}</span>` : ''}</h2>
      ${n === undefined
        ? html`<p data-field="native-status">${r.error ? html`unreachable (${r.error})` : '—'}</p>`
        : html`<dl ?data-stale=${stale}>
              <dt>Role</dt><dd data-field="native-role">${n.role ?? '—'}${n.producing ? ` (producing as ${n.producer})` : ''}</dd>
              <dt>Head</dt><dd data-field="native-head">${n.head ? html`${n.head.num} <code>${n.head.id.slice(0, 16).toLowerCase()}…</code>` : '—'}</dd>
              <dt>Irreversible</dt><dd data-field="native-irreversible">${n.irreversible?.num ?? '—'}</dd>
            </dl>
            ${n.peers && n.peers.length > 0 ? html`<div ?data-stale=${stale}>${this.table(n.peers, 'native-peers', "the Node peer's WebSocket ping round trip")}</div>` : html`<p class="note" data-field="native-peers">The Node peer lists no peers.</p>`}`}`;
  }
}
customElements.define('psiweb-peers', PeersPanel);
