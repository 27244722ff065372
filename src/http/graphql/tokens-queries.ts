/**
 * `tokens.<root>/graphql`: psibase's Tokens queries (packages/user/Tokens/query-service,
 * an async-graphql service), with its names, arguments and shapes, answered from
 * psiweb's tokens service tables (services/tokens): table 0 Balance {account, balance}
 * keyed by the account, table 1 Supply {supply} (a singleton).
 *
 * psiweb's tokens holds one token, psibase's system token: id 1 (`config.sysTid`, as
 * the tokens plugin takes it), precision 0 (its amounts are whole units: psibase's
 * Decimal then prints them as plain integers), its whole supply issued at `init`,
 * never burned or recalled (`unrecallable`), owned by the tokens account (psibase's
 * system token's NFT stays with tokens; psiweb has no NFT service, so `nftId` is 0),
 * no symbol. A transfer credits the receiver at once and a balance that reaches 0 is
 * erased, so every user's settings are psibase's `autoDebit` on, `keepZeroBalances`
 * off; there are no pending (shared) balances and no sub-accounts.
 *
 * Served: `config`, `token(tokenId)`, `userSettings`, `userPending`, `userBalances`,
 * `userBalance`, `userTokens`, `userSubaccounts`, `subaccountBalance`,
 * `subaccountBalances`. Not served: psibase's event-history queries (`configurations`,
 * `supplyChanges`, `balChanges`): psiweb keeps no tokens event history. Unlike
 * psibase, the `user*` queries do not ask that the user authorized the asking app:
 * every psiweb peer and service worker holds the whole chain state anyway.
 *
 * Connections are async-graphql's (`edges`, `nodes`, `pageInfo` with null cursors on
 * an empty page) over psibase's key layout: a user's balances are the subindex of
 * (account, tokenId) under the account, so a cursor is the token id (u32, big-endian
 * hex).
 */
import { FracSchema } from '../../protocol/fracpack/index.ts';
import { accountName, accountNumber, isValidAccountName } from '../../protocol/names.ts';
import { protocolSchema } from '../../protocol/types.ts';
import type { ChainSnapshot } from './chain-queries.ts';
import { makeConnection, rustConnectionArgs, rustConnectionType, type ConnectionArgs, type KeyedIndex } from './connection.ts';
import { GraphqlError } from './errors.ts';
import { buildSchema } from './introspection.ts';
import { tableIndexPrefix } from './tables.ts';
import { GraphqlBoolean, GraphqlInt, GraphqlString, list, nonNull, type ObjectType, type ScalarType, type Schema, type TypeRef } from './schema.ts';

export const TOKENS = accountNumber('tokens');
/** services/tokens: table 0 Balance {account, balance} by account. */
export const BALANCE_TABLE = 0;
/** services/tokens: table 1 Supply {supply}, a singleton (empty key). */
export const SUPPLY_TABLE = 1;
/** The one token psiweb's tokens holds: psibase's system token. */
export const SYS_TID = 1;
/** Its precision: psiweb's amounts are whole units. */
export const SYS_PRECISION = 0;
/** The account holding the system token's ownership (psibase: its NFT stays with tokens). */
const SYS_OWNER = 'tokens';

/** services/tokens' rows (extensible structs, as its ObjectWriter.struct() packs them). */
export const tokensRowSchema = new FracSchema(
  {
    ...protocolSchema,
    Balance: { Object: { account: 'AccountNumber', balance: 'u64' } },
    Supply: { Object: { supply: 'u64' } },
  },
  { mode: 'json' },
);

// ---- values ----

/** psibase's Decimal (rust/psibase services/tokens/decimal.rs): `quantity / 10^precision`, all digits of the fraction. */
export function formatDecimal(quantity: bigint, precision: number): string {
  if (precision === 0) return quantity.toString();
  const scale = 10n ** BigInt(precision);
  return `${quantity / scale}.${(quantity % scale).toString().padStart(precision, '0')}`;
}

/**
 * A `tokenId: String` argument as psibase's token_id_to_number reads it: digits are a
 * token number (u32); anything else a symbol (an account name), which psiweb has none of.
 */
export function tokenIdArg(tokenId: string): number {
  if (tokenId === '') throw new GraphqlError('a token id is a token number or a symbol, got ""');
  if (/^[0-9]/.test(tokenId)) {
    const n = /^[0-9]+$/.test(tokenId) ? Number(tokenId) : NaN;
    if (!Number.isSafeInteger(n) || n > 0xffffffff) throw new GraphqlError(`invalid token ID number: ${JSON.stringify(tokenId)}`);
    return n;
  }
  if (!isValidAccountName(tokenId)) throw new GraphqlError(`${JSON.stringify(tokenId)} is neither a token number nor a symbol`);
  throw new GraphqlError(`token by symbol not found: ${tokenId} (psiweb's tokens has no symbols)`);
}

function u32Key(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, false);
  return b;
}

function accountKey(account: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, account, false);
  return b;
}

function rowKey(table: number, key: Uint8Array): Uint8Array {
  const prefix = tableIndexPrefix(TOKENS, table);
  const out = new Uint8Array(prefix.length + key.length);
  out.set(prefix);
  out.set(key, prefix.length);
  return out;
}

/** The supply, or undefined before tokens' init (then there is no token at all). */
async function supplyOf(snap: ChainSnapshot): Promise<bigint | undefined> {
  const raw = await snap.read((r) => r.get(rowKey(SUPPLY_TABLE, new Uint8Array(0))));
  return raw ? BigInt((tokensRowSchema.type('Supply').decode(raw) as { supply: string }).supply) : undefined;
}

async function balanceRow(snap: ChainSnapshot, user: bigint): Promise<bigint | undefined> {
  const raw = await snap.read((r) => r.get(rowKey(BALANCE_TABLE, accountKey(user))));
  return raw ? BigInt((tokensRowSchema.type('Balance').decode(raw) as { balance: string }).balance) : undefined;
}

interface TokenValue {
  id: number;
  supply: bigint;
}

async function tokenOf(snap: ChainSnapshot, id: number): Promise<TokenValue | null> {
  if (id !== SYS_TID) return null;
  const supply = await supplyOf(snap);
  return supply === undefined ? null : { id, supply };
}

interface BalanceValue {
  account: string;
  tokenId: number;
  quantity: bigint;
  /** Whether the token exists: psibase's Balance resolvers fail ("Token DNE") otherwise. */
  token: TokenValue | null;
}

function tokenOrFail(b: { token: TokenValue | null }): TokenValue {
  if (!b.token) throw new GraphqlError('Token DNE');
  return b.token;
}

function precisionOf(b: { token: TokenValue | null }): number {
  tokenOrFail(b);
  return SYS_PRECISION;
}

// ---- scalars ----

const describe = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v));

/** psibase's AccountNumber scalar: the name, as a string. */
export const AccountNumberScalar: ScalarType = {
  kind: 'SCALAR',
  name: 'AccountNumber',
  serialize(v) {
    if (typeof v === 'string' && isValidAccountName(v)) return v;
    if (typeof v === 'bigint') return accountName(v);
    throw new GraphqlError(`AccountNumber cannot represent ${describe(v)}`);
  },
  parseValue(v) {
    if (typeof v === 'string' && isValidAccountName(v)) return v;
    throw new GraphqlError(`Expected string containing account number, got ${describe(v)}`);
  },
};

/** psibase's Decimal scalar: a quantity at its token's precision, as a string ("12.3400"). */
const DecimalScalar: ScalarType = {
  kind: 'SCALAR',
  name: 'Decimal',
  serialize(v) {
    if (typeof v === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(v)) return v;
    throw new GraphqlError(`Decimal cannot represent ${describe(v)}`);
  },
  parseValue(v) {
    if (typeof v === 'string' && /^[0-9]+(\.[0-9]+)?$/.test(v)) return v;
    throw new GraphqlError(`Expected string containing decimal, got ${describe(v)}`);
  },
};

/** psibase's Precision scalar: decimal places, 0 to 8, as a number. */
const PrecisionScalar: ScalarType = {
  kind: 'SCALAR',
  name: 'Precision',
  serialize(v) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 8) return v;
    throw new GraphqlError(`Precision cannot represent ${describe(v)}`);
  },
  parseValue(v) {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 8) return v;
    throw new GraphqlError(`Precision is a whole number from 0 to 8, got ${describe(v)}`);
  },
};

// ---- types ----

const S = nonNull(GraphqlString);
const I = nonNull(GraphqlInt);
const B = nonNull(GraphqlBoolean);
const A = nonNull(AccountNumberScalar);
const D = nonNull(DecimalScalar);
const P = nonNull(PrecisionScalar);

const obj = (name: string, fields: Record<string, TypeRef>): ObjectType => ({
  kind: 'OBJECT',
  name,
  fields: () => Object.fromEntries(Object.entries(fields).map(([k, type]) => [k, { type }])),
});

const TokenFlagsJsonType = obj('TokenFlagsJson', { untransferable: B, unrecallable: B });
const BalanceFlagsJsonType = obj('BalanceFlagsJson', { autoDebit: B, keepZeroBalances: B });
/** What a psiweb transfer does: credited at once (auto-debit), zero balances erased. */
const USER_FLAGS = { autoDebit: true, keepZeroBalances: false };
/** psibase's BalanceFlags bits: auto_debit is bit 0, keep_zero_balances bit 1. */
const USER_FLAG_BITS = 1;

const TokenType: ObjectType = {
  kind: 'OBJECT',
  name: 'Token',
  fields: () => ({
    id: { type: I },
    nftId: { type: I, resolve: () => 0 },
    precision: { type: P, resolve: () => SYS_PRECISION },
    owner: { type: A, resolve: () => SYS_OWNER },
    currentSupply: { type: D, resolve: (t: TokenValue) => formatDecimal(t.supply, SYS_PRECISION) },
    issuedSupply: { type: D, resolve: (t: TokenValue) => formatDecimal(t.supply, SYS_PRECISION) },
    maxIssuedSupply: { type: D, resolve: (t: TokenValue) => formatDecimal(t.supply, SYS_PRECISION) },
    settings: { type: nonNull(TokenFlagsJsonType), resolve: () => ({ untransferable: false, unrecallable: true }) },
    burnedSupply: { type: D, resolve: () => formatDecimal(0n, SYS_PRECISION) },
    symbol: { type: AccountNumberScalar, resolve: () => null },
  }),
};

const BalanceType: ObjectType = {
  kind: 'OBJECT',
  name: 'Balance',
  fields: () => ({
    account: { type: A },
    tokenId: { type: I },
    balance: { type: D, resolve: (b: BalanceValue) => formatDecimal(b.quantity, precisionOf(b)) },
    settings: { type: nonNull(BalanceFlagsJsonType), resolve: () => USER_FLAGS },
    symbol: { type: AccountNumberScalar, resolve: () => null },
    precision: { type: P, resolve: (b: BalanceValue) => precisionOf(b) },
  }),
};

const UserConfigType: ObjectType = {
  kind: 'OBJECT',
  name: 'UserConfig',
  fields: () => ({
    account: { type: A },
    flags: { type: I },
    settings: { type: nonNull(BalanceFlagsJsonType), resolve: () => USER_FLAGS },
  }),
};

const ConfigRowType: ObjectType<ChainSnapshot> = {
  kind: 'OBJECT',
  name: 'ConfigRow',
  fields: () => ({
    sysTid: { type: I },
    token: { type: nonNull(TokenType), resolve: (c: { token: TokenValue }) => c.token },
  }),
};

const SharedBalanceType: ObjectType = {
  kind: 'OBJECT',
  name: 'SharedBalance',
  fields: () => ({
    creditor: { type: A },
    debitor: { type: A },
    tokenId: { type: I },
    token: { type: nonNull(TokenType), resolve: (b: { token: TokenValue | null }) => tokenOrFail(b) },
    balance: { type: D },
    symbol: { type: AccountNumberScalar },
    precision: { type: P },
  }),
};

const UserPendingRecordType = obj('UserPendingRecord', { sharedBalId: I, sharedBal: nonNull(SharedBalanceType) });
const SubAccountType = obj('SubAccount', { account: A, subAccount: S, manualDeletion: B });
const SubAccountBalanceType: ObjectType = {
  kind: 'OBJECT',
  name: 'SubAccountBalance',
  fields: () => ({
    tokenId: { type: I },
    balance: { type: D },
    token: { type: nonNull(TokenType) },
    account: { type: A },
    subaccount: { type: S },
  }),
};

// ---- connections ----

const EMPTY: KeyedIndex<never> = {
  size: 0,
  key: () => {
    throw new GraphqlError('an empty index has no keys');
  },
  node: () => {
    throw new GraphqlError('an empty index has no rows');
  },
};

/** Cursors are opaque to clients: no connection here takes key bounds. */
const noBounds = (): Uint8Array => {
  throw new GraphqlError('this connection takes no key bounds');
};

function paged<Node>(index: KeyedIndex<Node>, args: Record<string, unknown>) {
  return makeConnection(index, args as ConnectionArgs<never>, noBounds);
}

function userArg(args: Record<string, unknown>, name = 'user'): bigint {
  return accountNumber(args[name] as string);
}

// ---- the query ----

const TokensQuery: ObjectType<ChainSnapshot> = {
  kind: 'OBJECT',
  name: 'Query',
  fields: () => ({
    config: {
      type: ConfigRowType,
      description: "The token service's global configuration: the system token (null before tokens' init)",
      resolve: async (_p, _a, snap) => {
        const token = await tokenOf(snap, SYS_TID);
        return token ? { sysTid: SYS_TID, token } : null;
      },
    },
    token: {
      type: TokenType,
      description: "A token's configuration, ownership and supply, by number (or symbol); null when there is no such token",
      args: { tokenId: { type: S } },
      resolve: (_p, a, snap) => tokenOf(snap, tokenIdArg(a.tokenId as string)),
    },
    userSettings: {
      type: nonNull(UserConfigType),
      description: "A user's configuration within the token service",
      args: { user: { type: A } },
      resolve: (_p, a) => ({ account: a.user, flags: USER_FLAG_BITS }),
    },
    userPending: {
      type: nonNull(rustConnectionType(UserPendingRecordType)),
      description: "A user's pending transfers; psiweb's transfers are credited at once, so always empty",
      args: { user: { type: A }, tokenId: { type: GraphqlInt }, ...rustConnectionArgs() },
      resolve: (_p, a) => paged(EMPTY, a),
    },
    userBalances: {
      type: nonNull(rustConnectionType(BalanceType)),
      description: "A user's balances of all their tokens, by token id",
      args: { user: { type: A }, ...rustConnectionArgs() },
      resolve: async (_p, a, snap) => {
        const user = a.user as string;
        const [quantity, token] = await Promise.all([balanceRow(snap, userArg(a)), tokenOf(snap, SYS_TID)]);
        const index: KeyedIndex<BalanceValue> =
          quantity === undefined || !token
            ? EMPTY
            : { size: 1, key: () => u32Key(SYS_TID), node: () => ({ account: user, tokenId: SYS_TID, quantity, token }) };
        return paged(index, a);
      },
    },
    userBalance: {
      type: nonNull(BalanceType),
      description: "A user's balance of one token (0 when they hold none)",
      args: { user: { type: A }, tokenId: { type: S } },
      resolve: async (_p, a, snap) => {
        const tokenId = tokenIdArg(a.tokenId as string);
        const token = await tokenOf(snap, tokenId);
        const quantity = token ? ((await balanceRow(snap, userArg(a))) ?? 0n) : 0n;
        return { account: a.user as string, tokenId, quantity, token } satisfies BalanceValue;
      },
    },
    userTokens: {
      type: nonNull(list(nonNull(TokenType))),
      description: 'The tokens the user owns (issues)',
      args: { user: { type: A } },
      resolve: async (_p, a, snap) => {
        if (a.user !== SYS_OWNER) return [];
        const token = await tokenOf(snap, SYS_TID);
        return token ? [token] : [];
      },
    },
    userSubaccounts: {
      type: nonNull(rustConnectionType(SubAccountType)),
      description: "A user's sub-accounts; psiweb's tokens has none",
      args: { user: { type: A }, ...rustConnectionArgs() },
      resolve: (_p, a) => paged(EMPTY, a),
    },
    subaccountBalance: {
      type: nonNull(SubAccountBalanceType),
      description: "A sub-account's balance of a token; psiweb's tokens has no sub-accounts",
      args: { user: { type: A }, subAccount: { type: S }, tokenId: { type: I } },
      resolve: (_p, a) => noSubaccount(a),
    },
    subaccountBalances: {
      type: nonNull(rustConnectionType(SubAccountBalanceType)),
      description: "A sub-account's balances; psiweb's tokens has no sub-accounts",
      args: { user: { type: A }, subAccount: { type: S }, ...rustConnectionArgs() },
      resolve: (_p, a) => noSubaccount(a),
    },
  }),
};

function noSubaccount(a: Record<string, unknown>): never {
  throw new GraphqlError(`Sub-account '${a.subAccount as string}' not found for user '${a.user as string}'`);
}

export const TOKENS_GRAPHQL: Schema<ChainSnapshot> = buildSchema(TokensQuery);
