import { LitElement, css, html } from 'lit';
import './chain-status.ts';
import './consensus-panel.ts';
import './explorer.ts';
import './finality-panel.ts';
import './join-banner.ts';
import './keys-note.ts';
import './networks-panel.ts';
import './offline-banner.ts';
import './peers-panel.ts';
import './storage-persist.ts';
import './sync-progress.ts';
import './update-prompt.ts';

/** The node dashboard's frame. */
export class PsiwebApp extends LitElement {
  static override styles = css`
    :host { display: block; font: 16px system-ui, sans-serif; color: #1b1b1b; }
    main { padding: 1em 1.5em; }
    h1 { margin: 0 0 0.3em; }
    .panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(22em, 1fr)); gap: 0.8em; margin: 0.8em 0; align-items: start; }
    psiweb-explorer { margin-top: 0.8em; }
  `;

  override render() {
    return html`
      <psiweb-offline-banner></psiweb-offline-banner>
      <psiweb-update-prompt></psiweb-update-prompt>
      <main>
        <h1>psiweb</h1>
        <p>A browser-native psibase node.</p>
        <psiweb-join-banner></psiweb-join-banner>
        <psiweb-sync-progress></psiweb-sync-progress>
        <div class="panels">
          <psiweb-chain-status></psiweb-chain-status>
          <psiweb-consensus></psiweb-consensus>
          <psiweb-peers></psiweb-peers>
          <psiweb-finality></psiweb-finality>
          <psiweb-networks></psiweb-networks>
        </div>
        <psiweb-storage-persist></psiweb-storage-persist>
        <psiweb-keys-note></psiweb-keys-note>
        <psiweb-explorer></psiweb-explorer>
      </main>
    `;
  }
}
customElements.define('psiweb-app', PsiwebApp);
