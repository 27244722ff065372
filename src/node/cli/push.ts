/**
 * `psiweb push SENDER SERVICE METHOD (JSON-ARGS | --hex ARGS)`: one signed action, the
 * way psibase's CLI pushes one (rust/psibase main.rs / rpc.rs). With JSON the arguments
 * are packed from the service's schema, which the node publishes at
 * `packages.<root>/schema?service=NAME` as psibase's does (or `--schema FILE`);
 * with `--hex` they are the action's fracpacked bytes as given, so any service works,
 * including one built by psibase's own toolchain. Signed by SENDER's devnet key, or by
 * `-s/--sign FILE` (psibase's flag; `--key FILE` is the older spelling). Prints JSON:
 * `error`, `actions` (the pushed action as it ran: `rawRetval`, its return value as
 * hex, and `console`, what it printed) and `actionTraces` (psibase's full trace). A
 * transaction the chain refused exits 1 with its error.
 */
import { isValidAccountName, accountNumber, methodNumber } from '../../protocol/names.ts';
import { ClientError, fetchNode, serviceUrl } from '../client.ts';
import { packWithSchema, type ServiceSchema } from '../schemas.ts';
import { readSchemaFile } from './deploy.ts';
import { EXIT_FAILED, EXIT_OK, UsageError, type CliIo, parseCommandLine } from './io.ts';
import { actionResults, type ActionResult, DEFAULT_URL, hexBytes, methodArg, NODE_OPTIONS, nodeUrl, pushActions, signersFrom } from './tx.ts';

export const PUSH_USAGE = `usage: psiweb push SENDER SERVICE METHOD ('JSON-ARGS' | --hex ARGS) [-s FILE] [--url URL] [--wait final|applied]
  JSON-ARGS: the action's arguments as a JSON object, e.g. '{"to":"bob","amount":"5","memo":"hi"}'
             (packed from the schema the node publishes for SERVICE)
  --hex ARGS: the action's fracpacked arguments as hex, for any service
             (e.g. add(2,40) of a (i32,i32) action: 08000200000028000000)
  --schema FILE: pack JSON-ARGS with this service schema (psibase's schema JSON, as given
             to psiweb deploy), for any service; the result is decoded too
  -s, --sign FILE: a PEM private key to sign with (default: SENDER's devnet key; --key FILE also works)
  --url URL: the node's root URL (default ${DEFAULT_URL})
  Prints JSON: {error, actions: [{sender, service, method, rawRetval, console, result?}], actionTraces}:
  rawRetval is the action's return value (fracpacked, hex), console what it printed;
  actionTraces is psibase's full trace.`;

/**
 * The schema the node publishes for `service` (psibase's CLI fetches the same), or
 * undefined when it publishes none (404).
 */
export async function fetchServiceSchema(root: string, service: string): Promise<ServiceSchema | undefined> {
  const res = await fetchNode(serviceUrl(root, 'packages', `/schema?service=${encodeURIComponent(service)}`));
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new ClientError(`the node answered ${res.status} for the schema of "${service}": ${res.text()}`);
  try {
    return res.json() as ServiceSchema;
  } catch (e) {
    throw new ClientError(`the node's schema of "${service}" is not JSON: ${(e as Error).message}`, { cause: e });
  }
}

function checkSender(value: string, what: string): string {
  if (!isValidAccountName(value)) throw new UsageError(`${what} must be a account name, got "${value}"`);
  return value;
}

export async function runPush(argv: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandLine(argv, {
    ...NODE_OPTIONS,
    key: { type: 'string' },
    hex: { type: 'string' },
    schema: { type: 'string' },
    wait: { type: 'string', default: 'final' },
  });
  const { values, positionals } = parsed;
  const hexMode = values.hex !== undefined;
  if (hexMode && positionals.length !== 3) {
    throw new UsageError(`with --hex, expected SENDER SERVICE METHOD, got ${positionals.length} argument(s)${positionals.length === 4 ? ' (JSON-ARGS and --hex together)' : ''}`);
  }
  if (!hexMode && positionals.length !== 4) throw new UsageError(`expected SENDER SERVICE METHOD JSON-ARGS, got ${positionals.length} argument(s)`);
  const [senderArg, serviceArg, methodArg_, json] = positionals as [string, string, string, string | undefined];
  const sender = checkSender(senderArg, 'SENDER');
  const service = checkSender(serviceArg, 'SERVICE');
  const method = methodArg(methodArg_, 'METHOD');
  if (values.wait !== 'final' && values.wait !== 'applied') throw new UsageError(`--wait must be final or applied, got "${values.wait}"`);
  const root = nodeUrl(values);
  if (values.key !== undefined && values.sign !== undefined) throw new UsageError('give --key or -s/--sign, not both');
  let signers;
  try {
    signers = await signersFrom(values.sign ?? (values.key !== undefined ? [values.key] : undefined));
  } catch (e) {
    // The older flag keeps its own name in the message.
    if (values.key !== undefined && e instanceof UsageError) throw new UsageError(e.message.replace('--sign', '--key'));
    throw e;
  }
  let rawData: Uint8Array;
  let decodeResult: ((bytes: Uint8Array) => unknown) | undefined;
  if (hexMode && values.schema !== undefined) throw new UsageError('--schema packs JSON-ARGS; --hex needs none');
  if (hexMode) {
    try {
      rawData = hexBytes(values.hex!, '--hex');
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
  } else {
    let args: unknown;
    try {
      args = JSON.parse(json!);
    } catch (e) {
      throw new UsageError(`JSON-ARGS is not JSON: ${(e as Error).message}`);
    }
    const schema = values.schema !== undefined ? ((await readSchemaFile(values.schema)) as unknown as ServiceSchema) : await fetchServiceSchema(root, service);
    if (schema === undefined) {
      throw new UsageError(`cannot pack ${service}::${method} arguments: the node publishes no schema for service "${service}" (give its schema with --schema FILE, or its packed arguments with --hex)`);
    }
    try {
      const packed = packWithSchema(schema, method, args);
      rawData = packed.rawData;
      decodeResult = packed.decodeResult;
    } catch (e) {
      throw new UsageError(`cannot pack ${service}::${method} arguments: ${(e as Error).message}`);
    }
  }
  const actions = [{ sender: accountNumber(sender), service: accountNumber(service), method: methodNumber(method), rawData }];
  const trace = await pushActions(root, actions, signers, values.wait);
  // The action's own result first, then psibase's full trace.
  const results: (ActionResult & { result?: unknown })[] = actionResults(trace, actions);
  if (decodeResult) {
    for (const r of results) {
      try {
        r.result = decodeResult(hexBytes(r.rawRetval, 'rawRetval'));
      } catch {
        // A return value that does not fit its schema stays hex only.
      }
    }
  }
  io.stdout(`${JSON.stringify({ error: trace.error ?? null, actions: results, actionTraces: trace.actionTraces }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  if (trace.error) {
    io.stderr(`transaction failed: ${trace.error}\n`);
    return EXIT_FAILED;
  }
  return EXIT_OK;
}
