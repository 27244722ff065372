// Runs SDK-built services on psiweb's real service host (src/vm) over a fresh
// in-memory state, with psibase's `db` service deployed privileged.

import { compileService } from '../../../scripts/build-services.ts';
import { accountNumber, methodNumber } from '../../../src/protocol/names.ts';
import { WriteOverlay, MemoryKv } from '../../../src/state/index.ts';
import { CodeFlags, ServiceHost, type ActionResult, type ServiceCode } from '../../../src/vm/index.ts';

export class VmChain {
  readonly state = new WriteOverlay(new MemoryKv());
  private readonly host = new ServiceHost();
  private readonly code = new Map<bigint, ServiceCode>();

  /** A chain with `db` (privileged) and the given services deployed from their sources. */
  static async create(services: Record<string, string>): Promise<VmChain> {
    const chain = new VmChain();
    chain.code.set(accountNumber('db'), { code: await compileService('services/db/db.ts'), flags: CodeFlags.isPrivileged });
    for (const [account, source] of Object.entries(services)) {
      chain.code.set(accountNumber(account), { code: await compileService(source) });
    }
    return chain;
  }

  push(sender: string, service: string, method: string, rawData: Uint8Array): ActionResult {
    return this.host.runAction({
      state: this.state,
      codeFor: (s) => this.code.get(s),
      action: { sender: accountNumber(sender), service: accountNumber(service), method: methodNumber(method), rawData },
    });
  }
}
