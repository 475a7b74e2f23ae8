import { TrellisError } from '../lib/errors.js';

/**
 * Collects everything wrong with one object, so a single denial lists all of it (fixing one
 * mistake per `kubectl apply` is tedious).
 *
 * @example
 *   const problems = new Problems('ApplicationConfiguration/shop/web')
 *   problems.add('TRL_ADMISSION_COMPONENT_REF', 'spec.components[0]', 'set componentName or revisionName, not both')
 *   problems.throwIfAny()
 */
export class Problems {
  readonly list: TrellisError[] = [];

  constructor(readonly object: string) {}

  add(code: string, field: string, reason: string): void {
    this.list.push(new TrellisError(code, reason, { object: this.object, field }));
  }

  /** Adds an error raised elsewhere (e.g. by render/ or bind/), keeping its code and message. */
  addError(err: TrellisError): void {
    this.list.push(err);
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** Throws the one problem, or one error (with the first problem's code) that lists them all. */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    if (this.list.length === 1) throw this.list[0];
    const first = this.list[0]!;
    throw new TrellisError(
      first.code,
      `${this.list.length} problems: ${this.list.map((p, i) => `(${i + 1}) ${p.message}`).join('; ')}`,
      { object: this.object },
    );
  }
}
