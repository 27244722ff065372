/**
 * The messages between an app (common-lib) and the supervisor frame, in psibase's
 * shapes (packages/user/CommonApi/common/packages/common-lib/src/messaging): type
 * strings, `id`s, `args` of a function call, and the error objects a reply's `result`
 * may be. An app written against psibase's common-lib reads psiweb's replies unchanged.
 * Error objects are plain (not Error subclasses): postMessage's structured clone
 * would drop their fields.
 */

export const FUNCTION_CALL_REQUEST = 'FUNCTION_CALL_REQUEST' as const;
export const FUNCTION_CALL_RESPONSE = 'FUNCTION_CALL_RESPONSE' as const;
export const PRE_LOAD_PLUGINS_REQUEST = 'PRE_LOAD_PLUGINS_REQUEST' as const;
export const SUPERVISOR_INITIALIZED = 'SUPERVISOR_INITIALIZED' as const;

export interface PluginId {
  service: string;
  plugin?: string;
}

export interface QualifiedPluginId {
  service: string;
  plugin: string;
}

export interface FunctionCallArgs {
  service: string;
  plugin?: string;
  intf?: string;
  method: string;
  params: unknown[];
}

export interface QualifiedFunctionCallArgs extends FunctionCallArgs {
  plugin: string;
}

export interface FunctionCallRequest {
  type: typeof FUNCTION_CALL_REQUEST;
  id: string;
  args: QualifiedFunctionCallArgs;
}

export interface FunctionCallResponse {
  type: typeof FUNCTION_CALL_RESPONSE;
  id: string;
  result: unknown;
}

export interface PreLoadPluginsRequest {
  type: typeof PRE_LOAD_PLUGINS_REQUEST;
  id: string;
  payload: { plugins: QualifiedPluginId[] };
}

export interface SupervisorInitialized {
  type: typeof SUPERVISOR_INITIALIZED;
  payload: Record<string, never>;
}

/** psibase's PluginErrorObject: an error a plugin (or loading it) produced. */
export interface PluginErrorObject {
  name: 'PluginErrorObject';
  pluginId: QualifiedPluginId;
  message: string;
}

/** psibase's GenericErrorObject. */
export interface GenericErrorObject {
  name: 'GenericErrorObject';
  message: string;
}

/** psibase's RedirectErrorObject: the app should send the user to the supervisor's prompt page. */
export interface RedirectErrorObject {
  name: 'RedirectErrorObject';
  pluginId: QualifiedPluginId;
  message: string;
}

export const DEFAULT_PLUGIN = 'plugin';

export function pluginErrorObject(pluginId: QualifiedPluginId, message: string): PluginErrorObject {
  return { name: 'PluginErrorObject', pluginId: { service: pluginId.service, plugin: pluginId.plugin }, message };
}

export function genericErrorObject(message: string): GenericErrorObject {
  return { name: 'GenericErrorObject', message };
}

export function redirectErrorObject(pluginId: QualifiedPluginId, message: string): RedirectErrorObject {
  return { name: 'RedirectErrorObject', pluginId, message };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

const isString = (x: unknown): x is string => typeof x === 'string';

function isQualifiedPluginId(x: unknown): x is QualifiedPluginId {
  return isObject(x) && isString(x.service) && isString(x.plugin);
}

/** Whether `x` is a function call request with well-formed args (psibase's isQualifiedFunctionCallArgs). */
export function isFunctionCallRequest(x: unknown): x is FunctionCallRequest {
  if (!isObject(x) || x.type !== FUNCTION_CALL_REQUEST || !isString(x.id)) return false;
  const a = x.args;
  return isObject(a) && isString(a.service) && isString(a.plugin) && (a.intf === undefined || isString(a.intf)) && isString(a.method) && Array.isArray(a.params);
}

export function isPreLoadPluginsRequest(x: unknown): x is PreLoadPluginsRequest {
  return isObject(x) && x.type === PRE_LOAD_PLUGINS_REQUEST && isString(x.id) && isObject(x.payload) && Array.isArray(x.payload.plugins) && x.payload.plugins.every(isQualifiedPluginId);
}

export function isFunctionCallResponse(x: unknown): x is FunctionCallResponse {
  return isObject(x) && x.type === FUNCTION_CALL_RESPONSE && isString(x.id);
}

export function isSupervisorInitialized(x: unknown): x is SupervisorInitialized {
  return isObject(x) && x.type === SUPERVISOR_INITIALIZED;
}

/** psibase's isGenericErrorObject: any object with string `name` and `message`. */
export function isGenericErrorObject(x: unknown): x is GenericErrorObject {
  return isObject(x) && isString(x.message) && isString(x.name);
}

export function isPluginErrorObject(x: unknown): x is PluginErrorObject {
  return isGenericErrorObject(x) && 'pluginId' in x;
}

export function isRedirectErrorObject(x: unknown): x is RedirectErrorObject {
  return isGenericErrorObject(x) && 'pluginId' in x && (x as { name: string }).name === 'RedirectErrorObject';
}

export function functionCallResponse(id: string, result: unknown): FunctionCallResponse {
  return { type: FUNCTION_CALL_RESPONSE, id, result };
}

export function supervisorInitialized(): SupervisorInitialized {
  return { type: SUPERVISOR_INITIALIZED, payload: {} };
}

/** `service:plugin/intf->method`, as psibase's toString names a call in logs. */
export function callString(a: FunctionCallArgs): string {
  return `${a.service}:${a.plugin ?? DEFAULT_PLUGIN}${a.intf ? `/${a.intf}` : ''}->${a.method}`;
}

/** WIT's kebab-case name as jco's JS name (`add-greeting` → `addGreeting`); camelCase passes through. */
export function kebabToCamel(name: string): string {
  return name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}
