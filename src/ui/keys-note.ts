import { LitElement, css, html } from 'lit';

/**
 * The dashboard's word on keys (issue 10 §3): keys made or imported in this browser
 * live in the supervisor origin's IndexedDB, non-extractable, and nowhere else, so
 * clearing site data removes them. Links to the supervisor page, which lists them
 * (and the grants apps hold).
 */
export class KeysNote extends LitElement {
  static override styles = css`
    :host { display: block; font: 14px system-ui, sans-serif; margin: 0.8em 0; }
    p { margin: 0.3em 0; padding: 0.5em 0.8em; border-left: 4px solid #b26b00; background: #fff6e5; }
  `;

  private supervisorUrl(): string {
    return `${location.protocol}//supervisor.${location.hostname}${location.port ? `:${location.port}` : ''}/`;
  }

  override render() {
    return html`<p id="keys-warning">
      Your account keys live only in this browser. Clearing this site's data (or the
      supervisor's, <code>supervisor.${location.hostname}</code>) removes them: keep the
      backup file you download when a key is made.
      <a href=${this.supervisorUrl()} target="_blank" rel="noopener">Keys and app permissions</a>
    </p>`;
  }
}
customElements.define('psiweb-keys-note', KeysNote);
