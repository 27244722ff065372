/**
 * The page's side of several networks (networks.ts): asks the node (whichever tab's
 * worker runs it) to create a network here or to switch to another, over NODE_CHANNEL,
 * and reads the registry for the dashboard. `#create` in the page's URL creates one.
 */
import { NODE_CHANNEL } from './constants.ts';
import { checkJoin, type Join } from './invite.ts';
import { isNetworkMessage, NetworkError, NetworkRegistry, type NetworkMessage, type NetworkRecord } from './networks.ts';

/** How often a request is said again until the node answers (it may not be running yet; it ignores repeats). */
const RESEND_MS = 2_000;
/** Booting a chain compiles every service: allow for a slow device. */
const CREATE_TIMEOUT_MS = 120_000;
/** A producer-set request waits for its transactions to be applied. */
const PRODUCER_TIMEOUT_MS = 90_000;
/** sessionStorage key of the `#create` request under way, so a reload does not create a second network. */
const CREATE_NONCE_KEY = 'psiweb.createNonce';

function ask<T>(request: NetworkMessage, answer: (m: NetworkMessage) => T | Error | undefined, timeoutMs: number): Promise<T> {
  const channel = new BroadcastChannel(NODE_CHANNEL);
  return new Promise<T>((resolve, reject) => {
    const finish = (f: () => void) => {
      clearInterval(resend);
      clearTimeout(timer);
      channel.close();
      f();
    };
    channel.onmessage = (e: MessageEvent<unknown>) => {
      if (!isNetworkMessage(e.data)) return;
      const a = answer(e.data);
      if (a instanceof Error) finish(() => reject(a));
      else if (a !== undefined) finish(() => resolve(a));
    };
    const resend = setInterval(() => channel.postMessage(request), RESEND_MS);
    const timer = setTimeout(() => finish(() => reject(new NetworkError('the node did not answer (is a psiweb tab open and running the node?)'))), timeoutMs);
    channel.postMessage(request);
  });
}

/** Asks the node to create a network in this browser and make it active; resolves with its database and chain id. */
export function createNetworkHere(label?: string, nonce: string = crypto.randomUUID()): Promise<{ db: string; chainId: string }> {
  return ask<{ db: string; chainId: string }>(
    { type: 'create-network', nonce, ...(label !== undefined && { label }) },
    (m) => (m.type === 'network-created' && m.nonce === nonce ? { db: m.db, chainId: m.chainId } : m.type === 'network-failed' && m.nonce === nonce ? new NetworkError(m.error) : undefined),
    CREATE_TIMEOUT_MS,
  );
}

/** The node's answer to a producer-set request, by nonce: its value, or a NetworkError with why it failed. */
function producerAnswer<T>(nonce: string, pick: (m: Extract<NetworkMessage, { type: 'producer-answer' }>) => T | undefined) {
  return (m: NetworkMessage): T | Error | undefined => {
    if (m.type !== 'producer-answer' || m.nonce !== nonce) return undefined;
    if (m.error !== undefined) return new NetworkError(m.error);
    return pick(m) ?? new NetworkError('the node gave no answer to the request');
  };
}

/** Offers this browser as a producer of the active network (joined over browser peers); resolves with its producer account. */
export function offerToProduce(nonce: string = crypto.randomUUID()): Promise<string> {
  return ask({ type: 'offer-produce', nonce }, producerAnswer(nonce, (m) => m.producer), PRODUCER_TIMEOUT_MS);
}

/** Names the active network's producer set (its creator only): this browser's producer and every candidate (or `producers`), in `mode`. */
export function setProducerSet(mode: 'cft' | 'bft', producers?: string[], nonce: string = crypto.randomUUID()): Promise<string[]> {
  return ask({ type: 'set-producers', nonce, mode, ...(producers && { producers }) }, producerAnswer(nonce, (m) => m.producers), PRODUCER_TIMEOUT_MS);
}

/** Asks the node to make network `db` of the registry active. */
export function switchNetwork(db: string): Promise<void> {
  return ask({ type: 'switch-network', db }, (m) => (m.type === 'network' && m.db === db ? true : undefined), 30_000).then(() => undefined);
}

/**
 * Asks the node to make the network an opened invite names active (the Node peer's, or
 * one joined over browser peers); resolves once it says that network is active.
 */
export function joinNetwork(join: { chainId: string; bootstrap: string[] }, timeoutMs = 60_000): Promise<void> {
  const id = join.chainId.toUpperCase();
  return ask(
    { type: 'join-network', chainId: join.chainId, bootstrap: join.bootstrap },
    (m) => (m.type === 'network' && m.chainId?.toUpperCase() === id ? true : undefined),
    timeoutMs,
  ).then(() => undefined);
}

/** sessionStorage key of an invite whose network the node has not yet said is active. */
const JOIN_PENDING_KEY = 'psiweb.joinPending';

/**
 * Makes the network of an invite just opened (`join`), or of one opened before a reload
 * and not yet joined, the active one. Nothing to do without either.
 */
export async function joinInvitedNetwork(join: Join | undefined, storage: Storage = sessionStorage): Promise<void> {
  if (join) storage.setItem(JOIN_PENDING_KEY, JSON.stringify(join));
  let pending: Join;
  try {
    const stored = storage.getItem(JOIN_PENDING_KEY);
    if (!stored) return;
    pending = checkJoin(JSON.parse(stored));
  } catch {
    storage.removeItem(JOIN_PENDING_KEY);
    return;
  }
  await joinNetwork(pending);
  storage.removeItem(JOIN_PENDING_KEY);
}

/** This profile's networks and the active one. */
export async function listNetworks(): Promise<{ networks: NetworkRecord[]; active: string }> {
  const reg = await NetworkRegistry.open();
  try {
    return { networks: await reg.list(), active: (await reg.active()).db };
  } finally {
    reg.close();
  }
}

/** `#create` in the URL: creates a network here (once, also across a reload), then drops the fragment. */
export async function handleNetworkHash(): Promise<void> {
  if (location.hash !== '#create') return;
  let nonce = sessionStorage.getItem(CREATE_NONCE_KEY);
  if (!nonce) {
    nonce = crypto.randomUUID();
    sessionStorage.setItem(CREATE_NONCE_KEY, nonce);
  }
  try {
    await createNetworkHere(undefined, nonce);
    history.replaceState(null, '', location.pathname + location.search);
  } finally {
    sessionStorage.removeItem(CREATE_NONCE_KEY);
  }
}
