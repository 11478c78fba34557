/**
 * xend's log, as something the caller can read: what the 2.0 daemon printed
 * or logged (XendLogging, bare prints in channel.py), and the places where
 * the simulation bounded what xend would have done with a malformed ring.
 */

export type XendLogKind =
  /** A message claimed more than 60 payload bytes; xu.c clamped the length to 60. */
  | 'length-clamped'
  /** A producer index moved further than a well-behaved peer can move it. */
  | 'index-jump'
  /** A request or response of a type no device controller handles (the request is echoed back). */
  | 'no-device'
  /** A response whose id no responder was waiting for. */
  | 'unmatched-response'
  /** xu.c raised port_error ("no space to write response", ...). */
  | 'port-error'
  /** Console output did not fit xend's 64 KiB buffer: the rest was dropped. */
  | 'console-overflow'
  /** Console input did not fit xend's 64 KiB buffer: the rest was dropped. */
  | 'console-input-overflow'
  /** Console life cycle: created, connected, refused, disconnected, closed. */
  | 'console'
  /** Requests xend sent a domain (shutdown, memory target). */
  | 'domain'
  /** XendDomain.reap: a domain found shut down, why, and what xend did with it. */
  | 'reap';

export interface XendLogEntry {
  readonly dom: number;
  readonly kind: XendLogKind;
  readonly text: string;
}

export type XendLogger = (kind: XendLogKind, text: string) => void;

/** A logger that tags entries with the domain and appends them to `into`. */
export function domainLogger(into: XendLogEntry[], dom: number): XendLogger {
  return (kind, text) => {
    into.push({ dom, kind, text });
  };
}
