import { css, html } from 'lit';
import type { JoinOutcome } from '../node/browser/invite.ts';
import { NodeElement } from './node-element.ts';

let outcome: JoinOutcome | undefined;

/** What the page's `#join=` fragment held (main.ts reads it before the node starts). */
export function setJoinOutcome(o: JoinOutcome | undefined): void {
  outcome = o;
  document.querySelector('psiweb-app')?.shadowRoot?.querySelector<JoinBanner>('psiweb-join-banner')?.requestUpdate();
}

/**
 * An invite link opened here: which network it joins (and, once the node knows its
 * chain, whether that is the one the invite names), or why the link is not valid.
 */
export class JoinBanner extends NodeElement {
  static override styles = css`
    :host { display: block; }
    p { margin: 0.4em 0; padding: 0.5em 0.8em; border-radius: 4px; }
    .error { background: #fde2e1; color: #7a1410; }
    .ok { background: #e3f3e6; color: #14532d; }
  `;

  override render() {
    const o = outcome;
    if (!o) return html``;
    if (!o.ok) return html`<p class="error" role="alert" data-field="join-error">${o.error}</p>`;
    const chain = this.status?.chainId ?? null;
    if (chain && chain !== o.join.chainId)
      return html`<p class="error" role="alert" data-field="join-error">This invite is for chain ${o.join.chainId.slice(0, 12)}…, but this node follows ${chain.slice(0, 12)}… (the page came from another network's peer).</p>`;
    return html`<p class="ok" data-field="join">Joining chain <code>${o.join.chainId.slice(0, 12)}…</code> through <code>${o.join.inviter.slice(-8)}</code> and ${o.join.bootstrap.length} bootstrap address${o.join.bootstrap.length === 1 ? '' : 'es'}.</p>`;
  }
}
customElements.define('psiweb-join-banner', JoinBanner);
