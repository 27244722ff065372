import { html } from 'lit';
import { FINALITY_WINDOW } from './dashboard-data.ts';
import { finality, onFinality } from './dashboard-sources.ts';
import { panelStyles } from './dashboard-styles.ts';
import { NodeElement } from './node-element.ts';

const BLOCK_TIME_TITLE =
  "Median, over the last " +
  FINALITY_WINDOW +
  " blocks, of (when this page first saw the block irreversible) minus (the block's header time). A block's time is its slot's start, so this includes the block interval; it assumes this clock and the producer's agree. Blocks that arrived while catching up are not counted.";
const HEAD_TITLE =
  'Median, over the last ' + FINALITY_WINDOW + ' blocks, of (when this page first saw the block irreversible) minus (when it first saw it as head). On a one-producer chain a block is irreversible as it is made: about 0.';

const ms = (v: number | undefined) => (v === undefined ? '—' : `${Math.round(v)} ms`);

/** Finality latency, measured in this page from the node's status views (see FinalityTracker). */
export class FinalityPanel extends NodeElement {
  static override styles = panelStyles;
  private off: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = onFinality(() => this.requestUpdate());
  }

  override disconnectedCallback(): void {
    this.off?.();
    super.disconnectedCallback();
  }

  override render() {
    const f = finality.figures();
    return html`<h2>Finality latency</h2>
      <dl>
        <dt title=${BLOCK_TIME_TITLE}>Block time → irreversible</dt>
        <dd data-field="finality-block-time" data-samples=${f.blockTimeSamples} title=${BLOCK_TIME_TITLE}>${ms(f.blockTimeMs)} <span class="note">p50 of ${f.blockTimeSamples}</span></dd>
        <dt title=${HEAD_TITLE}>Head → irreversible</dt>
        <dd data-field="finality-head" data-samples=${f.headSamples} title=${HEAD_TITLE}>${ms(f.headMs)} <span class="note">p50 of ${f.headSamples}</span></dd>
      </dl>
      <p class="note">Seen from this browser; blocks that arrived while catching up are not counted.</p>`;
  }
}
customElements.define('psiweb-finality', FinalityPanel);
