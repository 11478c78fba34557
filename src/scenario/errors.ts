/**
 * Errors for people: each says where (file:line:col and the path in the
 * document), what was expected, what was found, and what to try.
 */
import { closestName } from '../core/util/suggest.js';

export interface Pos {
  line: number;
  col: number;
  /** The file, when it is not the scenario's own (an exercise's solution spliced into it). */
  file?: string;
}

export interface Problem {
  file: string;
  line: number;
  col: number;
  /** Path in the document, e.g. "steps[3].args.remote_port". */
  path: string;
  message: string;
  hint?: string;
}

export function formatProblem(p: Problem): string {
  const where = `${p.file}:${p.line}:${p.col}`;
  const path = p.path === '' ? '' : `${p.path}: `;
  return `${where}: ${path}${p.message}${p.hint === undefined ? '' : ` (${p.hint})`}`;
}

/** Thrown when a scenario cannot run at all; carries every problem found. */
export class ScenarioInputError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ScenarioInputError';
  }
}

export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const s = closestName(word, candidates);
  return s === undefined ? undefined : `did you mean "${s}"?`;
}

