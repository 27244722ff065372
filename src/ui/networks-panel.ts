import { LitElement, html } from 'lit';
import { createNetworkHere, listNetworks, offerToProduce, setProducerSet, switchNetwork } from '../node/browser/network-client.ts';
import { NODE_CHANNEL } from '../node/browser/constants.ts';
import type { NetworkRecord } from '../node/browser/networks.ts';
import { panelStyles } from './dashboard-styles.ts';

/**
 * This profile's networks (issue 11 §2): the one synced from the Node peer, those
 * created here (this browser produces them). Create a network, or switch to another:
 * the node reopens on its database and the root service worker answers from it.
 */
export class NetworksPanel extends LitElement {
  static override styles = panelStyles;
  static override properties = { networks: { state: true }, active: { state: true }, busy: { state: true }, error: { state: true } };
  declare networks: NetworkRecord[];
  declare active: string | undefined;
  declare busy: string | undefined;
  declare error: string | undefined;
  private channel: BroadcastChannel | undefined;

  constructor() {
    super();
    this.networks = [];
    this.active = undefined;
    this.busy = undefined;
    this.error = undefined;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.reload();
    // The node announces every switch (from any tab): read the registry again then.
    this.channel = new BroadcastChannel(NODE_CHANNEL);
    this.channel.onmessage = (e: MessageEvent<{ type?: string }>) => {
      if (e.data?.type === 'network') void this.reload();
    };
  }

  override disconnectedCallback(): void {
    this.channel?.close();
    super.disconnectedCallback();
  }

  private async reload(): Promise<void> {
    try {
      const { networks, active } = await listNetworks();
      this.networks = networks;
      this.active = active;
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  private async run(what: string, fn: () => Promise<unknown>): Promise<void> {
    this.busy = what;
    this.error = undefined;
    try {
      await fn();
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.busy = undefined;
      await this.reload();
    }
  }

  /** What this browser can do about the active network's producer set: offer itself (joined), or name the set (created here). */
  private producerActions() {
    const n = this.networks.find((x) => x.db === this.active);
    if (!n) return '';
    const busy = this.busy !== undefined;
    if (n.createdHere)
      return html`<p>
        <button id="set-producers-bft" ?disabled=${busy} @click=${() => this.run('naming the producers', () => setProducerSet('bft'))}>Make every candidate a producer (BFT)</button>
        <button id="set-producers-cft" ?disabled=${busy} @click=${() => this.run('naming the producers', () => setProducerSet('cft'))}>… (CFT)</button>
      </p>`;
    if (n.joined && !n.producer)
      return html`<p><button id="offer-produce" ?disabled=${busy} @click=${() => this.run('offering to produce', () => offerToProduce())}>Offer to produce</button></p>`;
    if (n.producer) return html`<p class="note" data-field="producer-account">This browser is producer <code>${n.producer}</code> of this network (it votes once the network’s creator names it).</p>`;
    return '';
  }

  override render() {
    return html`<h2>Networks</h2>
      <table>
        <tr><th>Network</th><th>Chain</th><th></th></tr>
        ${this.networks.map(
          (n) => html`<tr data-network=${n.db} ?data-active=${n.db === this.active}>
            <td>${n.label}${n.createdHere ? html` <span class="badge">this browser produces</span>` : n.joined ? html` <span class="badge">over browser peers</span>` : ''}</td>
            <td><code>${n.chainId ? `${n.chainId.slice(0, 12)}…` : '—'}</code></td>
            <td>${n.db === this.active ? 'active' : html`<button ?disabled=${this.busy !== undefined} @click=${() => this.run('switching', () => switchNetwork(n.db))}>Switch</button>`}</td>
          </tr>`,
        )}
      </table>
      <p>
        <button id="create-network" ?disabled=${this.busy !== undefined} @click=${() => this.run('creating a network', () => createNetworkHere())}>Create a network</button>
        ${this.busy ? html`<span class="note" data-field="network-busy">${this.busy}…</span>` : ''}
      </p>
      ${this.producerActions()}
      ${this.error ? html`<p class="note" data-field="network-error">${this.error}</p>` : ''}
      <p class="note">A network created here is produced by this browser, with a key that never leaves it.</p>`;
  }
}
customElements.define('psiweb-networks', NetworksPanel);
