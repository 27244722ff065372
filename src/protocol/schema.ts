/**
 * psibase's protocol types as a schema (libraries/psibase/common/include/psibase/
 * block.hpp, trace.hpp, Rpc.hpp). Field order is the wire order. `psiweb push` and
 * services' schemas can refer to these names.
 */
import type { Schema } from './fracpack/index.ts';

const int = (bits: number, isSigned: boolean) => ({ Int: { bits, isSigned } });

export const protocolSchema: Schema = {
  u8: int(8, false),
  u16: int(16, false),
  u32: int(32, false),
  u64: int(64, false),
  i64: int(64, true),
  bool: { Custom: { type: int(1, false), id: 'bool' } },
  string: { Custom: { type: { List: 'u8' }, id: 'string' } },
  hex: { Custom: { type: { List: 'u8' }, id: 'hex' } },
  AccountNumber: { Custom: { type: 'u64', id: 'AccountNumber' } },
  MethodNumber: { Custom: { type: 'u64', id: 'MethodNumber' } },
  // std::chrono time points over int64 seconds / microseconds (psibase/time.hpp).
  TimePointSec: { Custom: { type: 'i64', id: 'TimePointSec' } },
  TimePointUSec: { Custom: { type: 'i64', id: 'TimePointUSec' } },
  Checksum256: { Custom: { type: { Array: { type: 'u8', len: 32 } }, id: 'hex' } },

  Action: { Object: { sender: 'AccountNumber', service: 'AccountNumber', method: 'MethodNumber', rawData: 'hex' } },
  Claim: { Object: { service: 'AccountNumber', rawData: 'hex' } },
  // definitionWillNotChange(): a non-extensible, fixed 15-byte struct.
  Tapos: { Struct: { expiration: 'TimePointSec', refBlockSuffix: 'u32', flags: 'u16', refBlockIndex: 'u8' } },
  Transaction: { Object: { tapos: 'Tapos', actions: { List: 'Action' }, claims: { List: 'Claim' } } },
  SignedTransaction: {
    Object: { transaction: { FracPack: 'Transaction' }, proofs: { List: 'hex' }, subjectiveData: { Option: { List: 'hex' } } },
  },

  BlockHeaderAuthAccount: { Object: { codeNum: 'AccountNumber', codeHash: 'Checksum256', vmType: 'u8', vmVersion: 'u8' } },
  VMOptions: { Object: { max_mutable_global_bytes: 'u32', max_pages: 'u32', max_table_elements: 'u32', max_stack_bytes: 'u32' } },
  BlockHeaderWasmConfig: { Object: { numExecutionMemories: 'u32', vmOptions: 'VMOptions' } },
  Producer: { Object: { name: 'AccountNumber', auth: 'Claim' } },
  CftConsensus: { Object: { producers: { List: 'Producer' } } },
  BftConsensus: { Object: { producers: { List: 'Producer' } } },
  ConsensusData: { Variant: { CftConsensus: 'CftConsensus', BftConsensus: 'BftConsensus' } },
  Consensus: { Object: { data: 'ConsensusData', services: { List: 'BlockHeaderAuthAccount' }, wasmConfig: 'BlockHeaderWasmConfig' } },
  BlockHeaderCode: { Object: { vmType: 'u8', vmVersion: 'u8', code: 'hex' } },
  PendingConsensus: { Object: { consensus: 'Consensus', blockNum: 'u32' } },
  JointConsensus: { Object: { current: 'Consensus', next: { Option: 'PendingConsensus' } } },
  BlockHeader: {
    Object: {
      previous: 'Checksum256',
      blockNum: 'u32',
      time: 'TimePointUSec',
      producer: 'AccountNumber',
      term: 'u32',
      commitNum: 'u32',
      consensusState: 'Checksum256',
      trxMerkleRoot: 'Checksum256',
      eventMerkleRoot: 'Checksum256',
      newConsensus: { Option: 'Consensus' },
      authCode: { Option: { List: 'BlockHeaderCode' } },
    },
  },
  Block: { Object: { header: 'BlockHeader', transactions: { List: 'SignedTransaction' } } },
  SignedBlock: { Object: { block: 'Block', signature: 'hex', auxConsensusData: { Option: 'hex' } } },
  TransactionInfo: { Object: { transactionId: 'Checksum256', signatureHash: 'Checksum256', subjectiveDataHash: 'Checksum256' } },

  // HttpHeader is definitionWillNotChange(): non-extensible, but variable size.
  HttpHeader: { Struct: { name: 'string', value: 'string' } },
  HttpRequest: {
    Object: { host: 'string', method: 'string', target: 'string', contentType: 'string', headers: { List: 'HttpHeader' }, body: 'hex' },
  },
  HttpReply: { Object: { status: 'u16', contentType: 'string', body: 'hex', headers: { List: 'HttpHeader' } } },

  ActionTrace: {
    Object: {
      action: 'Action',
      rawRetval: 'hex',
      innerTraces: { List: 'InnerTrace' },
      totalTime: 'i64', // std::chrono::nanoseconds
      error: { Option: 'string' },
    },
  },
  EventTrace: { Object: { name: 'string', data: 'hex' } },
  ConsoleTrace: { Object: { console: 'string' } },
  InnerTrace: { Object: { inner: { Variant: { ConsoleTrace: 'ConsoleTrace', EventTrace: 'EventTrace', ActionTrace: 'ActionTrace' } } } },
  TransactionTrace: { Object: { actionTraces: { List: 'ActionTrace' }, error: { Option: 'string' } } },
};
