/**
 * Exercises: a scenario with a goal, hints and checks worth points. Results
 * use the Xen Test Framework's vocabulary, in its severity order
 * (SUCCESS < SKIP < FAILURE < ERROR); a crash or a timeout is an ERROR that
 * says so.
 */

export type ExerciseResult = 'SUCCESS' | 'SKIP' | 'FAILURE' | 'ERROR';

export interface ExerciseInfo {
  path: string;
  title: string;
  /** 1 (first steps) .. 5 (hard). */
  level: number;
  goal: string;
  hints: string[];
  /** What the student writes, when anything: e.g. "steps", "kernel handler for guest". */
  solutionParts: string[];
  checks: { id: string; title: string; points: number }[];
}

export interface CheckOutcome {
  id: string;
  title: string;
  result: ExerciseResult;
  points: number;
  earned: number;
  /** Why, for the student: expected/found, or the error. */
  message: string;
  /** Where in the exercise or the solution, when it is about a line. */
  file?: string;
  line?: number;
  col?: number;
}

export interface ExerciseReport {
  path: string;
  /** The worst result of any check. */
  result: ExerciseResult;
  earned: number;
  total: number;
  /** earned / total, 0..100, rounded down to a whole percent. */
  percent: number;
  checks: CheckOutcome[];
  /** The graded guest's console, ending with its `Test result:` line. */
  console: string;
  /** The seed the run used (the same seed grades the same way). */
  seed?: number;
  /** What the run noticed that is not graded: the student's own `expect`s that did not hold, for instance. */
  notes?: string[];
}
