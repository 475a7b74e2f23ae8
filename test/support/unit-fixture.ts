/** Mocha global fixture of `npm run test:unit`: the native CUE evaluator, nothing else (no cluster). */
import { prepareCueEvaluator } from './cue-evaluator.js';

export async function mochaGlobalSetup(): Promise<void> {
  await prepareCueEvaluator(process.env);
}
