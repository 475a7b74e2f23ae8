// Evaluates a template that imports a CUE package from the host (a cue.mod in the working
// directory) through the CueEngine, and prints what happened as JSON. Run by sandbox.test.ts
// with its working directory set to such a module.
import { CueEngine } from '../engine.js';

const engine = new CueEngine({ workers: 1 });
try {
  const out = await engine.evaluate({ template: 'import "host.example/secret"\noutput: v: secret.value\n', fields: ['output'] });
  console.log(JSON.stringify({ ok: true, out }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, message: (err as Error).message }));
} finally {
  await engine.stop();
}
