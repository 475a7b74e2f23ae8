import type { Rule } from 'eslint';

export const LAYERS: string[][];
export const ALLOWED: Record<string, string[] | '*'>;
declare const rule: Rule.RuleModule;
export default rule;
