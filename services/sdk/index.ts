// The psiweb service SDK. A service is one file:
//
//   import { action, Call, serveHttp } from "../sdk";
//   export { start, called } from "../sdk";
//   action("hello", (c: Call): void => { c.retString("hi " + c.args.str()); });

export { abortWith, check, log } from "./check";
export { Action, CallFlags, callAction, currentAction, resultBytes, resultKey } from "./action";
export { Bytes, Layout, ObjectReader, ObjectWriter, packBytes, packString, readBytes, readString } from "./fracpack";
export { Key } from "./key";
export { DbId, exportKvHandles, KvEntry, KvHandle, KvMode, Row, Table, TableCursor } from "./kv";
export { HttpHeader, HttpHandler, HttpReply, HttpRequest, jsonString, percentDecode, serveHttp } from "./http";
export { accountName, accountNumber, methodName, methodNumber } from "./names";
export { action, ActionHandler, Call, called, receiver, sender, start } from "./service";
