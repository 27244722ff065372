/**
 * psibase's peer-protocol messages as a schema (psibase's JSON schema form), on top of
 * the protocol types (Claim, SignedBlock …) in src/protocol/schema.ts. Field names,
 * order and types follow psibase's sources at the commit named in
 * test/vectors/p2p/README.md:
 *
 * - libraries/net/include/psibase/routing_base.hpp: InitMessage
 * - libraries/net/include/psibase/shortest_path_routing.hpp: SequenceNumber, RouteMetric
 *   (both definitionWillNotChange), RouteUpdateMessage, RouteSeqnoRequest,
 *   RequestRoutesMessage, RoutingEnvelope
 * - libraries/net/include/psibase/blocknet.hpp: HelloRequest, BlockMessage, BlockHeaderMessage
 * - libraries/net/include/psibase/cft.hpp: ConfirmMessage, RequestVoteRequest, RequestVoteResponse
 * - libraries/net/include/psibase/bft.hpp: PrepareMessage, CommitMessage
 *   (definitionWillNotChange), ProducerConfirm, ViewChangeMessage, RequestViewMessage, BlockConfirm
 * - libraries/net/include/psibase/SignedMessage.hpp: SignedMessage<T> (definitionWillNotChange)
 * - libraries/psibase/native/include/psibase/ForkDb.hpp: ExtendedBlockId
 *
 * `Object` is an extensible struct (psibase's default), `Struct` one marked
 * definitionWillNotChange(). psio::shared_view_ptr<T> packs as a byte vector holding the
 * packed T (checked on unpack) and psio's JSON writes it as hex: here a `FracPack` with
 * the `hex` custom id. producer_id is AccountNumber, TermNum and BlockNum are u32,
 * RouterId is u64.
 */
import type { AnyType, Schema } from '../../protocol/fracpack/index.ts';
import { protocolSchema } from '../../protocol/schema.ts';

/** psio::shared_view_ptr<T>: the packed T as nested bytes, hex in JSON. */
const nested = (type: string): AnyType => ({ Custom: { type: { FracPack: type }, id: 'hex' } });

/** The messages that carry a `signer` and so travel as SignedMessage<T> (message_serializer.hpp NeedsSignature). */
export const SIGNED_MESSAGE_NAMES = [
  'ConfirmMessage',
  'RequestVoteRequest',
  'RequestVoteResponse',
  'PrepareMessage',
  'CommitMessage',
  'ViewChangeMessage',
] as const;

const signedTypes: Schema = Object.fromEntries(
  SIGNED_MESSAGE_NAMES.map((name) => [`SignedMessage<${name}>`, { Struct: { data: nested(name), signature: 'hex' } }]),
);

export const netSchema: Schema = {
  ...protocolSchema,

  ExtendedBlockId: { Object: { _id: 'Checksum256', _num: 'u32' } },
  SequenceNumber: { Struct: { value: 'u16' } },
  RouteMetric: { Struct: { value: 'u16' } },
  ProducerConfirm: { Object: { producer: 'AccountNumber', signature: 'hex' } },
  BlockConfirm: { Object: { blockNum: 'u32', commits: { List: 'ProducerConfirm' }, nextCommits: { Option: { List: 'ProducerConfirm' } } } },

  InitMessage: { Object: { version: 'u32' } },
  RoutingEnvelope: { Object: { destination: 'AccountNumber', data: 'hex' } },
  RouteUpdateMessage: { Object: { producer: 'AccountNumber', seqno: 'SequenceNumber', metric: 'RouteMetric', router: { Option: 'u64' } } },
  RouteSeqnoRequest: { Object: { producer: 'AccountNumber', seqno: 'SequenceNumber', ttl: 'u16' } },
  RequestRoutesMessage: { Object: {} },

  HelloRequest: { Object: { xid: 'ExtendedBlockId', committed: 'bool' } },
  BlockMessage: { Object: { block: nested('SignedBlock') } },
  BlockHeaderMessage: { Object: { block: nested('SignedBlock') } },

  ConfirmMessage: { Object: { term: 'u32', follower_id: 'AccountNumber', head_num: 'u32', signer: 'Claim' } },
  RequestVoteRequest: {
    Object: { term: 'u32', candidate_id: 'AccountNumber', last_log_index: 'u32', last_log_term: 'u32', signer: 'Claim' },
  },
  RequestVoteResponse: {
    Object: { term: 'u32', candidate_id: 'AccountNumber', voter_id: 'AccountNumber', vote_granted: 'bool', signer: 'Claim' },
  },

  PrepareMessage: { Object: { block_id: 'Checksum256', producer: 'AccountNumber', signer: 'Claim' } },
  // definitionWillNotChange(): no size header and no extensions (bft.hpp picks it apart
  // and reassembles it when building a BlockConfirm).
  CommitMessage: { Struct: { block_id: 'Checksum256', producer: 'AccountNumber', signer: 'Claim' } },
  ViewChangeMessage: {
    Object: {
      term: 'u32',
      producer: 'AccountNumber',
      signer: 'Claim',
      best_prepared: 'Checksum256',
      best_prepared_term: 'u32',
      prepares: { List: 'ProducerConfirm' },
      nextPrepares: { Option: { List: 'ProducerConfirm' } },
    },
  },
  RequestViewMessage: { Object: {} },

  ...signedTypes,
};
