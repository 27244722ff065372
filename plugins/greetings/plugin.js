// The greetings demo plugin. Imports are the interfaces its WIT world names;
// results: return the ok value, throw the error record.
import { getActiveApp, getReceiver, getSender } from 'host:common/client';
import { getJson } from 'host:common/server';
import { addActionToTransaction } from 'transact:plugin/intf';
import { get, set, delete as remove } from 'clientdata:plugin/keyvalue';

// QuickJS has no TextEncoder: UTF-16 code units as two bytes each.
const encode = (s) => {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[2 * i] = s.charCodeAt(i) >> 8;
    out[2 * i + 1] = s.charCodeAt(i) & 0xff;
  }
  return out;
};
const decode = (b) => {
  let s = '';
  for (let i = 0; i + 1 < b.length; i += 2) s += String.fromCharCode((b[i] << 8) | b[i + 1]);
  return s;
};

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
  remember(key, value) {
    set(key, encode(value));
  },
  recall(key) {
    const v = get(key);
    return v == null ? undefined : decode(v);
  },
  forget(key) {
    remove(key);
  },
  ownGet(path) {
    return getJson(path);
  },
};
