/**
 * Xenbus conventions: the XenbusState values of xen/include/public/io/xenbus.h
 * (stored in xenstore as decimal strings under a device's `state` key) and the
 * store paths libxl and the drivers agree on (docs/misc/xenstore-paths.pandoc).
 */

export const XenbusStateUnknown = 0;
export const XenbusStateInitialising = 1;
/** The backend is ready for the frontend's details (it published its features). */
export const XenbusStateInitWait = 2;
/** The frontend published its ring-ref and event-channel. */
export const XenbusStateInitialised = 3;
export const XenbusStateConnected = 4;
export const XenbusStateClosing = 5;
export const XenbusStateClosed = 6;
export const XenbusStateReconfiguring = 7;
export const XenbusStateReconfigured = 8;

export const XENBUS_STATE_NAMES: readonly string[] = [
  'XenbusStateUnknown',
  'XenbusStateInitialising',
  'XenbusStateInitWait',
  'XenbusStateInitialised',
  'XenbusStateConnected',
  'XenbusStateClosing',
  'XenbusStateClosed',
  'XenbusStateReconfiguring',
  'XenbusStateReconfigured',
];

/** "XenbusStateConnected", or "state 9". */
export function xenbusStateName(state: number): string {
  return XENBUS_STATE_NAMES[state] ?? `state ${state}`;
}

/**
 * A `state` value as drivers read it: Mini-OS takes the first character minus
 * '0', Linux scans a decimal; both give Unknown for garbage here.
 */
export function parseXenbusState(value: string): number {
  const m = /^\s*(\d+)/.exec(value);
  return m ? Number(m[1]) : XenbusStateUnknown;
}

/** A domain's home in the store, what XS_GET_DOMAIN_PATH answers ("~" for the domain itself). */
export function domainPath(domid: number): string {
  return `/local/domain/${domid}`;
}

/** Where a frontend's device directory lives: /local/domain/<fe>/device/<type>/<devid>. */
export function frontendPath(feDomid: number, type: string, devid: number): string {
  return `${domainPath(feDomid)}/device/${type}/${devid}`;
}

/** Where a backend's directory for it lives: /local/domain/<be>/backend/<type>/<fe>/<devid>. */
export function backendPath(beDomid: number, type: string, feDomid: number, devid: number): string {
  return `${domainPath(beDomid)}/backend/${type}/${feDomid}/${devid}`;
}

/** The first PV console's directory (legacy layout, not under device/): /local/domain/<domid>/console. */
export function consolePath(domid: number): string {
  return `${domainPath(domid)}/console`;
}
