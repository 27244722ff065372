// The greetings demo plugin. Imports are the interfaces its WIT world names;
// results: return the ok value, throw the error record.
import { getActiveApp, getReceiver, getSender } from 'host:common/client';
import { addActionToTransaction } from 'transact:plugin/intf';

export const api = {
  greet(name) {
    return `Hello, ${name}, from the ${getReceiver()} plugin`;
  },
  caller() {
    return `${getSender()} -> ${getReceiver()} (active app ${getActiveApp()})`;
  },
  queue(method) {
    // psibase packs an empty argument tuple as a fracpack struct with no fields: u16 size 0.
    addActionToTransaction(method, new Uint8Array([0, 0]));
  },
  fail(message) {
    throw { code: 1, producer: { service: getReceiver(), plugin: 'plugin' }, message };
  },
};
