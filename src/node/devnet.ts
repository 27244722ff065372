/**
 * The Node peer's development chain: the devnet of devnet-genesis.ts (platform-neutral,
 * booted the way psibase's `psibase boot` boots one) with its services' wasm read from
 * services/build (built where needed, service-build.ts) and the tokens UI and plugin
 * uploaded from disk.
 */
import type { Chain, ProducedBlock } from '../chain/executor.ts';
import type { Action, SignedTransaction } from '../protocol/types.ts';
import { DEVNET_PRODUCER } from './constants.ts';
import { bootGenesis, devnetFromWasm, genesisTransactions, type BootOptions, type Devnet } from './devnet-genesis.ts';
import { serviceWasm } from './service-build.ts';

export {
  DEVNET_REGISTRAR,
  DEVNET_SERVICES,
  DEVNET_TOKEN_SUPPLY,
  DEVNET_USERS,
  devnetFromWasm,
  devnetKey,
  devnetServices,
  type BootOptions,
  type Devnet,
  type DevnetProducers,
  type DevnetService,
  type DevnetWasm,
} from './devnet-genesis.ts';

/**
 * Loads (building where needed) the devnet's services and the key of the producer this
 * node signs as (`prod` by default; `psiweb start --producer NAME`).
 */
export async function loadDevnet(producerName: string = DEVNET_PRODUCER): Promise<Devnet> {
  return devnetFromWasm(serviceWasm, producerName);
}

/**
 * The tokens UI as sites::storeSys actions, sent by tokens (services/tokens/ui.ts), and
 * tokens' plugin at /plugin.wasm when built (plugins/tokens/site.ts), as psibase's
 * packages carry their plugins.
 */
async function tokensUiActions(): Promise<Action[]> {
  const [ui, plugin, sites] = await Promise.all([import('../../services/tokens/ui.ts'), import('../../plugins/tokens/site.ts'), import('../../services/sites/upload.ts')]);
  const file = plugin.tokensPluginFile();
  return [...ui.tokensUiActions('tokens'), ...(file ? sites.storeSysActions('tokens', [file]) : [])];
}

/** The boot transactions after the genesis transaction, in psibase's order (with the tokens UI from disk). */
export function devnetBootTransactions(devnet: Devnet, expiration: bigint, options: BootOptions = {}): Promise<SignedTransaction[]> {
  return genesisTransactions(devnet, expiration, { uiActions: tokensUiActions, ...options });
}

/** Boots `chain` (empty) as a devnet whose genesis block is timed `time` (µs, whole seconds), with the tokens UI from disk. */
export function bootDevnet(chain: Chain, devnet: Devnet, time: bigint, options: BootOptions = {}): Promise<ProducedBlock> {
  return bootGenesis(chain, devnet, time, { uiActions: tokensUiActions, ...options });
}
