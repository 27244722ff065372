/** Fixed rows of psiweb's tokens tables, for tests of the tokens queries. */
import { accountNumber } from '../../protocol/names.ts';
import { tableIndexPrefix } from './tables.ts';
import { BALANCE_TABLE, SUPPLY_TABLE, TOKENS, tokensRowSchema } from './tokens-queries.ts';

/** The tokens rows of a chain where tokens' init gave `supply` and the balances are `balances`. */
export function tokensRows(supply: bigint | undefined, balances: Record<string, bigint>): [Uint8Array, Uint8Array][] {
  const key = (table: number, k: Uint8Array) => {
    const p = tableIndexPrefix(TOKENS, table);
    const out = new Uint8Array(p.length + k.length);
    out.set(p);
    out.set(k, p.length);
    return out;
  };
  const rows: [Uint8Array, Uint8Array][] = [];
  if (supply !== undefined) rows.push([key(SUPPLY_TABLE, new Uint8Array(0)), tokensRowSchema.type('Supply').encode({ supply: supply.toString() })]);
  for (const [account, balance] of Object.entries(balances)) {
    const k = new Uint8Array(8);
    new DataView(k.buffer).setBigUint64(0, accountNumber(account));
    rows.push([key(BALANCE_TABLE, k), tokensRowSchema.type('Balance').encode({ account, balance: balance.toString() })]);
  }
  return rows;
}

