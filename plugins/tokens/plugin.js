// The tokens plugin: credit adds tokens' transfer action (arguments packed by the
// service's own POST /pack_action/transfer, sent as text/plain: a JSON content type
// would need a CORS preflight the node does not answer) to the call's transaction.
// Another app's plugin (or page) reaching credit is asked about first: the user
// answers tokens' prompt once per app (permissions:plugin is-authorized, high trust);
// the tokens app itself is never asked.
// fetch-network-token asks tokens' GraphQL `config { sysTid }`, as psibase's tokens
// plugin does; reading it needs no permission (psibase: authorized(None)).
import { getSender } from 'host:common/client';
import { post, postGraphqlGetJson } from 'host:common/server';
import { isAuthorized } from 'permissions:plugin/api';
import { addActionToTransaction } from 'transact:plugin/intf';

const fail = (message) => {
  throw { code: 1, producer: { service: 'tokens', plugin: 'plugin' }, message };
};

export const user = {
  credit(tokenId, debitor, amount, memo) {
    const caller = getSender();
    const descriptions = ['', '', `${caller} may send your tokens from the account you log in with there`];
    if (!isAuthorized(caller, 'high', descriptions, 'tokens credit', [])) fail(`the user did not allow ${caller} to send tokens`);
    if (tokenId !== 1) fail(`token ${tokenId} does not exist: psiweb's tokens service holds only the system token (1)`);
    const packed = post({ endpoint: '/pack_action/transfer', body: { tag: 'text', val: JSON.stringify({ to: debitor, amount, memo }) } });
    if (packed.tag !== 'bytes') fail(`tokens answered ${packed.tag} instead of packed arguments: ${packed.val}`);
    addActionToTransaction('transfer', packed.val);
  },
};

export const helpers = {
  fetchNetworkToken() {
    const text = postGraphqlGetJson('query { config { sysTid } }');
    let answer;
    try {
      answer = JSON.parse(text);
    } catch {
      fail(`tokens' GraphQL answered something that is not JSON: ${text.slice(0, 200)}`);
    }
    if (Array.isArray(answer?.errors) && answer.errors.length > 0) fail(`tokens' GraphQL refused config: ${answer.errors.map((e) => e?.message).join('; ')}`);
    const config = answer?.data?.config;
    if (config === null) return undefined;
    const id = config?.sysTid;
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) fail(`tokens' GraphQL config has no token id: ${text.slice(0, 200)}`);
    return id;
  },
};
