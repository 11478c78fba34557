// A syntax error: reported with TypeScript's message and its position.
import { scenario } from 'xenlab';

export default scenario({
  name: 'syntax',
  domains: [{ name: 'dom0' }}],
});
