// Keeps every piece of an ever larger topology: the sandbox's memory runs out.
import { scenario } from 'xenlab';

const domains: { name: string; cmdline: string }[] = [];
for (let i = 0; ; i++) domains.push({ name: `guest${i}`, cmdline: 'x'.repeat(1 << 16) + String(i) });

export default scenario({ name: 'never built', domains });
