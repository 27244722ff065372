/** psibase's peer-protocol wire codec: message types, type bytes, fracpack, JSON, signing preimages. */
export * from './errors.ts';
export * from './messages.ts';
export { checkP2pVectors, p2pJsonEqual, P2pVectorFileError, type P2pCheckResult } from './conformance.ts';
