/**
 * Failures of the host's own reads, as the UI is told them: one wording for
 * the file service, the exercise requests and the session worker.
 */
import { HostError } from '../../contract/api.js';
import { formatProblem, type ScenarioInputError } from '../../scenario/errors.js';
import type { FileError } from '../files.js';

/** A file that cannot be read: gone (not-found) or otherwise unreadable (io). */
export function fileHostError(e: FileError): HostError {
  return new HostError(/no such file/.test(e.message) ? 'not-found' : 'io', e.message);
}

/** A scenario or exercise that does not load: every problem at its file:line:col. */
export function problemsHostError(e: ScenarioInputError): HostError {
  return new HostError('input', e.problems.map(formatProblem).join('\n'));
}
