/**
 * The web mode's guards: the server listens on 127.0.0.1 only and serves
 * the UI to the page that knows its token. A request must come from
 * loopback, name our own host and port in Host (a DNS-rebinding page names
 * its own), and a WebSocket must also come from our own Origin and carry
 * the token. Every response carries the desktop app's Content-Security-Policy.
 */
import { timingSafeEqual } from 'node:crypto';

import { CONTENT_SECURITY_POLICY } from '../contract/csp.js';

/** The renderer's Content-Security-Policy: the desktop app's too (src/contract/csp.ts). */
export { CONTENT_SECURITY_POLICY };

/** Headers on every response. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/** Host header values that name this server (anything else may be a DNS-rebinding page). */
export function hostIsOurs(host: string | undefined, port: number): boolean {
  return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
}

export function originIsOurs(origin: string | undefined, port: number): boolean {
  return origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
}

/** Compares a presented token with ours in constant time. */
export function tokenMatches(presented: string | null | undefined, token: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
