import { LitElement, css, html } from 'lit';
import './chain-status.ts';
import './explorer.ts';
import './keys-note.ts';
import './offline-banner.ts';
import './storage-persist.ts';
import './sync-progress.ts';
import './update-prompt.ts';

/** The node dashboard's frame. */
export class PsiwebApp extends LitElement {
  static override styles = css`
    :host { display: block; font: 16px system-ui, sans-serif; color: #1b1b1b; }
    main { padding: 1em 1.5em; }
    h1 { margin: 0 0 0.3em; }
  `;

  override render() {
    return html`
      <psiweb-offline-banner></psiweb-offline-banner>
      <psiweb-update-prompt></psiweb-update-prompt>
      <main>
        <h1>psiweb</h1>
        <p>A browser-native psibase node.</p>
        <psiweb-sync-progress></psiweb-sync-progress>
        <psiweb-chain-status></psiweb-chain-status>
        <psiweb-storage-persist></psiweb-storage-persist>
        <psiweb-keys-note></psiweb-keys-note>
        <psiweb-explorer></psiweb-explorer>
      </main>
    `;
  }
}
customElements.define('psiweb-app', PsiwebApp);
