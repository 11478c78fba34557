// Reaches for Node's require: there is none in the sandbox.
import { scenario } from 'xenlab';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const fs = require('fs') as { readFileSync(p: string, e: string): string };

export default scenario({ name: fs.readFileSync('/etc/hostname', 'utf8'), domains: [{ name: 'dom0' }] });
