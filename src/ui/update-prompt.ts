import { LitElement, css, html } from 'lit';
import type { Workbox } from 'workbox-window';

/**
 * "Update available": a new service worker is installed and waiting. It only takes
 * over when the user says so, so an update never swaps code under a running node.
 */
export class UpdatePrompt extends LitElement {
  static override properties = { waiting: { state: true }, updating: { state: true } };
  declare waiting: boolean;
  declare updating: boolean;
  workbox: Workbox | undefined;

  static override styles = css`
    div { background: #1f3b73; color: #fff; padding: 0.4em 1em; font: 14px system-ui, sans-serif; }
    button { margin-left: 1em; }
  `;

  /** Resolves once the node stands at a block boundary, so the new worker never cuts one. */
  private beforeUpdate: () => Promise<void> = async () => undefined;

  constructor() {
    super();
    this.waiting = false;
    this.updating = false;
  }

  attach(workbox: Workbox, beforeUpdate?: () => Promise<void>): void {
    this.workbox = workbox;
    if (beforeUpdate) this.beforeUpdate = beforeUpdate;
    workbox.addEventListener('waiting', () => {
      this.waiting = true;
    });
    // A new version took over from the old one: this page runs the old code, so it reloads.
    // The first worker's claim needs none: the page's code is the worker's, and from the
    // claim on the page's requests go through it (a reload would restart the node for nothing).
    // (workbox's isUpdate only says whether a worker controlled the page when it registered:
    // not so for an update found later in a page that was first claimed while open.)
    let controlled = navigator.serviceWorker.controller !== null;
    workbox.addEventListener('controlling', (e) => {
      const firstClaim = !controlled && !e.isUpdate;
      controlled = true;
      if (!firstClaim) location.reload();
    });
  }

  private async apply() {
    if (this.updating) return;
    this.updating = true;
    await this.beforeUpdate();
    this.workbox?.messageSkipWaiting();
  }

  override render() {
    if (!this.waiting) return html``;
    return this.updating
      ? html`<div role="status">Updating psiweb: the page reloads once the node has paused and the new version has taken over…</div>`
      : html`<div role="status">An update of psiweb is ready. <button @click=${this.apply}>Reload to update</button></div>`;
  }
}
customElements.define('psiweb-update-prompt', UpdatePrompt);
