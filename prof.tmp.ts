import { compileScenario } from './src/host/lab/compile.js';
import { LabSession } from './src/host/lab/session.js';
import { timerScenario } from './bench/replay.js';
const c = await compileScenario('t.yaml', timerScenario(100, 2_000), 'yaml');
if (!c.ok) throw new Error('x');
const s = LabSession.start(c.compiled, { event: () => undefined, busy: () => undefined });
let st = s.status();
while (!st.scriptDone) st = s.seek(st.position + 100_000);
const end = st.position;
for (let i = 0; i < 3; i++) { const t = performance.now(); s.seek(end - 1); s.seek(end); console.log('seek back+fwd', (performance.now() - t).toFixed(0), 'ms', end, st.records); }
s.close();
