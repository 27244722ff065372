// The composer demo plugin: synchronous calls into the greetings plugin.
import { caller, queue, recall } from 'greetings:plugin/api';
import { get } from 'clientdata:plugin/keyvalue';
import { isAuthorized } from 'permissions:plugin/api';
import { getSender } from 'host:common/client';
import { addActionToTransaction } from 'transact:plugin/intf';

export const api = {
  run() {
    queue('c');
    addActionToTransaction('a', new Uint8Array([0, 0]));
    queue('b');
  },
  greetingsCaller() {
    return caller();
  },
  has(key) {
    return get(key) != null;
  },
  recallViaGreetings(key) {
    return recall(key);
  },
  secret() {
    const caller = getSender();
    const descriptions = ['', '', `${caller} may read composer's secret`];
    if (!isAuthorized(caller, 'high', descriptions, 'composer secret', [])) {
      throw { code: 403, producer: { service: 'composer', plugin: 'plugin' }, message: `${caller} is not allowed to read the secret` };
    }
    return 'the secret';
  },
};
