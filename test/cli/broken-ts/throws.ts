// Code that throws while the document is built.
import { scenario } from 'xenlab';

function guests(n: number): { name: string }[] {
  if (n > 3) throw new RangeError(`at most 3 guests, asked for ${n}`);
  return Array.from({ length: n }, (_, i) => ({ name: `guest${i}` }));
}

export default scenario({ name: 'throws', domains: [{ name: 'dom0' }, ...guests(7)] });
