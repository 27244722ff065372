/**
 * What tests and benches ask of a running `psiweb start` over HTTP: its status, a
 * balance, the producer of its head block, and waiting until something holds.
 */
import { fetchNode, serviceUrl } from '../client.ts';

export interface NodeStatusJson {
  head: { num: number; id: string };
  irreversible: { num: number; id: string };
  role: string;
  consensus: string;
  producer: string;
  peers: unknown[];
}

/** `GET /native/status` of the node at root URL `url`. */
export async function nodeStatus(url: string): Promise<NodeStatusJson> {
  const res = await fetchNode(`${url}/native/status`, { timeoutMs: 5_000 });
  if (res.status !== 200) throw new Error(`status of ${url}: ${res.status} ${res.text().slice(0, 200)}`);
  return res.json() as NodeStatusJson;
}

/** An account's system-token balance, as tokens answers `GET /balances/<account>`. */
export async function balanceAt(url: string, account: string): Promise<bigint> {
  const res = await fetchNode(serviceUrl(url, 'tokens', `/balances/${account}`));
  if (res.status !== 200) throw new Error(`balance of ${account} at ${url}: ${res.status} ${res.text().slice(0, 200)}`);
  return BigInt((res.json() as { balance: string }).balance);
}

/** Who produced the node's head block (explorer's GraphQL). */
export async function headProducer(url: string): Promise<string> {
  const res = await fetchNode(serviceUrl(url, 'explorer', '/graphql'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ blocks(last:1) { edges { node { header { producer } } } } }' }) });
  return (res.json() as { data: { blocks: { edges: { node: { header: { producer: string } } }[] } } }).data.blocks.edges[0]!.node.header.producer;
}

/** Polls `ok` (a throw counts as not yet: a node restarting does not answer) until it holds, or throws after `ms`. */
export async function until(what: string, ok: () => Promise<boolean>, ms: number, everyMs = 50): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (await ok()) return;
    } catch {
      // not up yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Whether a JSON trace holds a run of service::method, at any depth. */
export function ran(node: unknown, service: string, method: string): boolean {
  if (Array.isArray(node)) return node.some((n) => ran(n, service, method));
  if (node === null || typeof node !== 'object') return false;
  const action = (node as { action?: { service?: unknown; method?: unknown } }).action;
  if (action?.service === service && action.method === method) return true;
  return Object.values(node).some((v) => ran(v, service, method));
}
