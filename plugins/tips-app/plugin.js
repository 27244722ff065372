// The tips-app plugin: composition across apps. A tip is tokens' `user` `credit`
// of the system token, called synchronously; tokens' plugin asks the user whether
// tips-app may use it (the seed's cross-app prompt) and adds the transfer action.
import { credit } from 'tokens:plugin/user';

/** The system token (psibase's tokens:plugin/helpers fetch-network-token on psiweb's devnet). */
const SYSTEM_TOKEN = 1;

export const api = {
  tip(to, amount, memo) {
    credit(SYSTEM_TOKEN, to, amount, memo ? `tip: ${memo}` : 'tip');
  },
};
