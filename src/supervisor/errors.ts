/**
 * The supervisor's errors (psiweb's side). What crosses to an app is one of psibase's
 * message shapes (messages.ts); these are what the code throws before that.
 */
import { PsiwebError } from '../errors.ts';
import type { QualifiedPluginId } from './messages.ts';

/** A plugin that cannot be loaded: not served, not a component, or linking failed. */
export class PluginLoadError extends PsiwebError {
  override name = 'PluginLoadError';
  constructor(
    readonly pluginId: QualifiedPluginId,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { ...options, details: { ...pluginId } });
  }
}

/** A plugin importing an interface the host does not provide. */
export class PluginImportError extends PluginLoadError {
  override name = 'PluginImportError';
}

/** A call naming an interface or function the plugin does not export. */
export class PluginCallError extends PsiwebError {
  override name = 'PluginCallError';
  constructor(
    readonly pluginId: QualifiedPluginId,
    message: string,
  ) {
    super(message, { details: { ...pluginId } });
  }
}

/** A request message that is not one of psibase's shapes. */
export class SupervisorRequestError extends PsiwebError {
  override name = 'SupervisorRequestError';
}
