// The tokens plugin: credit adds tokens' transfer action (arguments packed by the
// service's own POST /pack_action/transfer, sent as text/plain: a JSON content type
// would need a CORS preflight the node does not answer) to the call's transaction.
import { post } from 'host:common/server';
import { addActionToTransaction } from 'transact:plugin/intf';

const fail = (message) => {
  throw { code: 1, producer: { service: 'tokens', plugin: 'plugin' }, message };
};

export const user = {
  credit(tokenId, debitor, amount, memo) {
    if (tokenId !== 1) fail(`token ${tokenId} does not exist: psiweb's tokens service holds only the system token (1)`);
    const packed = post({ endpoint: '/pack_action/transfer', body: { tag: 'text', val: JSON.stringify({ to: debitor, amount, memo }) } });
    if (packed.tag !== 'bytes') fail(`tokens answered ${packed.tag} instead of packed arguments: ${packed.val}`);
    addActionToTransaction('transfer', packed.val);
  },
};
