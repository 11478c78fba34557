// Reaches for the network: there is none in the sandbox.
import { scenario } from 'xenlab';

void fetch('http://127.0.0.1:9/');

export default scenario({ name: 'fetch', domains: [{ name: 'dom0' }] });
