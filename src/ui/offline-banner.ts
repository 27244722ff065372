import { LitElement, css, html } from 'lit';

/** Shows a banner while the browser is offline; the node keeps working from local state. */
export class OfflineBanner extends LitElement {
  static override properties = { online: { state: true } };
  declare online: boolean;

  constructor() {
    super();
    this.online = navigator.onLine;
  }

  static override styles = css`
    div { background: #7a4b00; color: #fff; padding: 0.4em 1em; font: 14px system-ui, sans-serif; }
  `;

  private readonly onConnectivity = () => {
    this.online = navigator.onLine;
  };

  override connectedCallback(): void {
    super.connectedCallback();
    addEventListener('online', this.onConnectivity);
    addEventListener('offline', this.onConnectivity);
  }

  override disconnectedCallback(): void {
    removeEventListener('online', this.onConnectivity);
    removeEventListener('offline', this.onConnectivity);
    super.disconnectedCallback();
  }

  override render() {
    return this.online ? html`` : html`<div role="status">Offline — working from this browser's copy of the chain.</div>`;
  }
}
customElements.define('psiweb-offline-banner', OfflineBanner);
