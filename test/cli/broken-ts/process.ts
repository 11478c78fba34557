// Reaches for the host process: there is none in the sandbox.
import { scenario } from 'xenlab';

const home = process.env.HOME ?? '/';

export default scenario({ name: `home is ${home}`, domains: [{ name: 'dom0' }] });
