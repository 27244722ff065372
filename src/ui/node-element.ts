import { LitElement } from 'lit';
import type { NodeHandle } from '../node/browser/leader.ts';
import type { NodeStatusView } from '../node/browser/messages.ts';
import { withNode } from './node-context.ts';

/** Base of the dashboard elements that show the node's status: re-renders on every change. */
export class NodeElement extends LitElement {
  static override properties = { status: { state: true }, nodeRole: { state: true } };
  // Declared, not initialised: a class field would shadow lit's reactive accessor.
  declare status: NodeStatusView | undefined;
  declare nodeRole: NodeHandle['role'];
  private unsubscribe: (() => void) | undefined;

  constructor() {
    super();
    this.nodeRole = 'starting';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    withNode((node) => {
      const update = () => {
        this.status = node.status;
        this.nodeRole = node.role;
      };
      this.unsubscribe?.();
      this.unsubscribe = node.subscribe(update);
      update();
    });
  }

  override disconnectedCallback(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    super.disconnectedCallback();
  }
}
