/** Reserved domain ids (xen/include/public/xen.h). */
export const DOMID_FIRST_RESERVED = 0x7ff0;
export const DOMID_SELF = 0x7ff0;
export const DOMID_IO = 0x7ff1;
export const DOMID_XEN = 0x7ff2;
export const DOMID_COW = 0x7ff3;
export const DOMID_INVALID = 0x7ff4;
export const DOMID_ANY = 0x7ff5;
export const DOMID_IDLE = 0x7fff;

export const DOMID_NAMES: Readonly<Record<string, number>> = {
  DOMID_SELF,
  DOMID_IO,
  DOMID_XEN,
  DOMID_COW,
  DOMID_INVALID,
  DOMID_ANY,
  DOMID_IDLE,
};

/** SHUTDOWN_* reasons (xen/include/public/sched.h). */
export const SHUTDOWN_REASONS = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'] as const;
export type ShutdownReason = (typeof SHUTDOWN_REASONS)[number];
