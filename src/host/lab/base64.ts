/**
 * Base64 for the stream, with Node's native encoder: the same text as the contract's
 * toBase64 (standard alphabet, padded; a test keeps them equal), made in one allocation.
 * The contract's pure version builds the text four characters at a time, and at a flooding
 * console's megabytes a second that garbage kept the session worker's collector busy.
 */
import { Buffer } from 'node:buffer';

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}
