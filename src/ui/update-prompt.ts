import { LitElement, css, html } from 'lit';
import type { Workbox } from 'workbox-window';

/**
 * "Update available": a new service worker is installed and waiting. It only takes
 * over when the user says so, so an update never swaps code under a running node.
 */
export class UpdatePrompt extends LitElement {
  static override properties = { waiting: { state: true } };
  waiting = false;
  workbox: Workbox | undefined;

  static override styles = css`
    div { background: #1f3b73; color: #fff; padding: 0.4em 1em; font: 14px system-ui, sans-serif; }
    button { margin-left: 1em; }
  `;

  attach(workbox: Workbox): void {
    this.workbox = workbox;
    workbox.addEventListener('waiting', () => {
      this.waiting = true;
    });
    workbox.addEventListener('controlling', () => location.reload());
  }

  private apply() {
    this.workbox?.messageSkipWaiting();
  }

  override render() {
    return this.waiting
      ? html`<div role="status">An update of psiweb is ready. <button @click=${this.apply}>Reload to update</button></div>`
      : html``;
  }
}
customElements.define('psiweb-update-prompt', UpdatePrompt);
