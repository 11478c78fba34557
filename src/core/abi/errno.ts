/**
 * Xen's errno values (xen/include/public/errno.h). Hypercalls return them negated.
 */
export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const E2BIG = 7;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ENOSYS = 38;
export const EOPNOTSUPP = 95;

/** Name of each errno value, for traces and messages. */
export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  [EPERM]: 'EPERM',
  [ENOENT]: 'ENOENT',
  [ESRCH]: 'ESRCH',
  [E2BIG]: 'E2BIG',
  [EAGAIN]: 'EAGAIN',
  [ENOMEM]: 'ENOMEM',
  [EACCES]: 'EACCES',
  [EFAULT]: 'EFAULT',
  [EBUSY]: 'EBUSY',
  [EEXIST]: 'EEXIST',
  [ENODEV]: 'ENODEV',
  [EINVAL]: 'EINVAL',
  [ENOSPC]: 'ENOSPC',
  [ENOSYS]: 'ENOSYS',
  [EOPNOTSUPP]: 'EOPNOTSUPP',
};

const ERRNO_BY_NAME: ReadonlyMap<string, number> = new Map(
  Object.entries(ERRNO_NAMES).map(([value, name]) => [name, Number(value)]),
);

/** The errno value for a name such as "EINVAL", or undefined. */
export function errnoByName(name: string): number | undefined {
  return ERRNO_BY_NAME.get(name);
}

/** "-EINVAL" for -22, "0" for 0, the number itself for anything else. */
export function retName(ret: number): string {
  if (ret >= 0) return String(ret);
  const name = ERRNO_NAMES[-ret];
  return name === undefined ? String(ret) : `-${name}`;
}
