/** Where psibase's tables keep their rows in the service database. */
import { DbId, dbKey } from '../../vm/dbs.ts';

/**
 * The prefix of one index of a service's table, as psibase's Table lays it out (and
 * services/sdk's Table keeps it): DbId::service, then the service (u64), the table
 * number (u16) and the index number (u8), all big-endian. Index 0 maps the primary
 * key to the packed row; index i ≥ 1 maps a secondary key to `0 ‖ primary key`.
 */
export function tableIndexPrefix(service: bigint, table: number, index = 0): Uint8Array {
  const k = new Uint8Array(11);
  const v = new DataView(k.buffer);
  v.setBigUint64(0, service);
  v.setUint16(8, table);
  v.setUint8(10, index);
  return dbKey(DbId.service, k);
}

