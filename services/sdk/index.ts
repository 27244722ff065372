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
export { allowCors, HttpHeader, HttpHandler, HttpReply, HttpRequest, jsonString, percentDecode, serveHttp } from "./http";
export { fromHex, toHex } from "./hex";
export { jsonStr, jsonU64, JsonKind, JsonValue, parseJson } from "./json";
export { accountName, accountNumber, methodName, methodNumber } from "./names";
export { action, ActionHandler, Call, called, receiver, sender, start } from "./service";
export { CODE_IS_PRIVILEGED, CODE_IS_VERIFY, CodeRow, nativeDb, nativeKey, NativeTableNum, PackedStruct, StatusView } from "./native";
export { sha256 } from "./sha256";
export {
  AuthRequest,
  FIRST_AUTH_FLAG,
  READ_ONLY_FLAG,
  readAuthRequest,
  REQUEST_MASK,
  RUN_AS_MATCHED_EXPANDED_REQ,
  RUN_AS_MATCHED_REQ,
  RUN_AS_OTHER_REQ,
  RUN_AS_REQUESTER_REQ,
  senderAmong,
  TOP_ACTION_REQ,
} from "./auth";
