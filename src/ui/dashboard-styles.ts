import { css } from 'lit';

/** The look the dashboard's panels share: a card with a title and a definition grid. */
export const panelStyles = css`
  :host { display: block; font: 14px system-ui, sans-serif; border: 1px solid #e2e2e2; border-radius: 6px; padding: 0.6em 0.9em; background: #fff; }
  h2 { font-size: 1em; margin: 0 0 0.4em; display: flex; gap: 0.6em; align-items: baseline; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2em 1em; margin: 0; }
  dt { color: #555; }
  dd { margin: 0; font-variant-numeric: tabular-nums; }
  code { font-size: 12px; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th { text-align: left; color: #555; font-weight: normal; }
  th, td { padding: 0.15em 0.6em 0.15em 0; border-top: 1px solid #eee; }
  .stale { color: #8a6d3b; }
  [data-stale] { opacity: 0.65; }
  .badge { font-size: 11px; padding: 0 0.4em; border-radius: 3px; background: #fff6e5; color: #7a4b00; border: 1px solid #e6c27a; font-weight: normal; }
  .note { color: #666; font-size: 12px; margin: 0.3em 0 0; }
  .warn { color: #7a4b00; background: #fff6e5; border: 1px solid #e6c27a; border-radius: 4px; padding: 0.3em 0.5em; margin: 0.4em 0 0; font-size: 13px; }
`;
