import { LitElement, css, html } from 'lit';

/**
 * Asks for persistent storage on a user gesture (browsers ignore or refuse the
 * request otherwise) and shows the answer: without it, the browser may evict the chain.
 */
export class StoragePersist extends LitElement {
  static override properties = { state: { state: true } };
  declare state: 'unknown' | 'persisted' | 'not-persisted' | 'unsupported';

  constructor() {
    super();
    this.state = 'unknown';
  }

  static override styles = css`
    :host { font: 14px system-ui, sans-serif; }
  `;

  override async connectedCallback(): Promise<void> {
    super.connectedCallback();
    if (!navigator.storage?.persisted) {
      this.state = 'unsupported';
      return;
    }
    this.state = (await navigator.storage.persisted()) ? 'persisted' : 'not-persisted';
  }

  private async ask() {
    const granted = await navigator.storage.persist();
    this.state = granted ? 'persisted' : 'not-persisted';
  }

  override render() {
    switch (this.state) {
      case 'persisted':
        return html`<span data-state="persisted">Storage: persistent</span>`;
      case 'unsupported':
        return html`<span data-state="unsupported">Storage: persistence not supported by this browser</span>`;
      case 'not-persisted':
        return html`<span data-state="not-persisted">Storage: may be evicted by the browser
          <button @click=${this.ask}>Keep data on this device</button></span>`;
      default:
        return html``;
    }
  }
}
customElements.define('psiweb-storage-persist', StoragePersist);
