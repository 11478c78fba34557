/**
 * `xenlab schema`: the JSON Schema of scenario files, generated from the same
 * grammar as the validator, for editors (monaco-yaml, VS Code's YAML
 * extension). Printed to stdout, or written atomically with -o FILE.
 */
import { parseArgs } from 'node:util';
import { AtomicFile, FileError, reason } from '../host/files.js';
import { scenarioJsonSchemaText, solutionJsonSchemaText } from '../scenario/schema.js';
import { UsageError } from './common.js';

export const SCHEMA_HELP = `xenlab schema [--solution] [-o FILE]

Prints the JSON Schema (draft-07) of scenario files: every key with its meaning in Xen,
defaults, and Xen's names (ops, VIRQs, GNTMAP flags, errnos, ...). Editors use it to
check and complete scenarios: put this line at the top of a scenario file
  # yaml-language-server: $schema=../schema/scenario.schema.json
(the repository ships the schema as schema/scenario.schema.json; npm run schema rewrites it).

Options:
  --solution         the schema of an exercise's solution file (steps: [...]) instead; shipped as
                     schema/solution.schema.json (docs/exercises.md)
  -o, --output FILE  write the schema to FILE (atomically) instead of standard output
  -h, --help         show this help
`;

export function schemaCommand(args: string[]): number {
  const { values } = parseArgs({
    args,
    allowPositionals: false,
    options: {
      output: { type: 'string', short: 'o' },
      solution: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(SCHEMA_HELP);
    return 0;
  }
  const text = values.solution ? solutionJsonSchemaText() : scenarioJsonSchemaText();
  if (values.output === undefined) {
    process.stdout.write(text);
    return 0;
  }
  if (values.output === '') throw new UsageError('-o needs a file name');
  let file: AtomicFile;
  try {
    file = new AtomicFile(values.output);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(e.message);
    throw e;
  }
  try {
    file.write(text);
    file.commit();
  } catch (e) {
    file.abort();
    throw new UsageError(`cannot write ${values.output}: ${reason(e)}`);
  }
  return 0;
}
