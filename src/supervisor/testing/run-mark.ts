/**
 * A component with a custom section appended (valid at a component's top level and
 * ignored by jco): the same plugin under a new hash, as a service that replaced its
 * plugin would serve it (the bench's cold loads, the freshness tests).
 */
import { uleb } from '../../http/x-http.ts';

export function withRunMark(component: Uint8Array, run: string): Uint8Array {
  const te = new TextEncoder();
  const name = te.encode('psiweb-bench');
  const payload = te.encode(run);
  const content = [...uleb(name.length), ...name, ...payload];
  const section = [0, ...uleb(content.length), ...content];
  const out = new Uint8Array(component.length + section.length);
  out.set(component);
  out.set(section, component.length);
  return out;
}
