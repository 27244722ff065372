// The composer demo plugin: synchronous calls into the greetings plugin.
import { caller, queue, recall } from 'greetings:plugin/api';
import { get } from 'clientdata:plugin/keyvalue';
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
};
