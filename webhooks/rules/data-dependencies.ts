import type {
  ApplicationConfigurationSpec,
  DataInput,
  DataOutput,
} from '../../apis/generated/core.oam.dev-v1alpha2.js';
import type { Problems } from '../problems.js';

interface Located<T> {
  value: T;
  field: string;
}

/**
 * Every `dataInputs[].valueFrom.dataOutputName` names a `dataOutput` declared by some component or
 * trait of the same AppConfig; output names are unique. Inputs and outputs that only read or write a
 * store object (upstream's `inputStore` / `outputStore`) need no name. Otherwise the consumer would wait forever for
 * a value nobody produces (upstream reported that only as an unsatisfied dependency at run time).
 */
export function checkDataDependencies(spec: ApplicationConfigurationSpec | undefined, problems: Problems): void {
  const outputs: Located<DataOutput>[] = [];
  const inputs: Located<DataInput>[] = [];
  (spec?.components ?? []).forEach((entry, i) => {
    const at = `spec.components[${i}]`;
    (entry.dataOutputs ?? []).forEach((value, j) => outputs.push({ value, field: `${at}.dataOutputs[${j}]` }));
    (entry.dataInputs ?? []).forEach((value, j) => inputs.push({ value, field: `${at}.dataInputs[${j}]` }));
    (entry.traits ?? []).forEach((trait, t) => {
      (trait.dataOutputs ?? []).forEach((value, j) =>
        outputs.push({ value, field: `${at}.traits[${t}].dataOutputs[${j}]` }),
      );
      (trait.dataInputs ?? []).forEach((value, j) =>
        inputs.push({ value, field: `${at}.traits[${t}].dataInputs[${j}]` }),
      );
    });
  });
  const declared = new Map<string, string>();
  for (const { value, field } of outputs) {
    if (!value.name) {
      // One that only writes a store (upstream's outputStore) is read through the store, not by name.
      if (!value.outputStore)
        problems.add(
          'TRL_ADMISSION_DATA_OUTPUT',
          `${field}.name`,
          'a dataOutput needs a name for dataInputs to refer to (or an outputStore)',
        );
      continue;
    }
    const earlier = declared.get(value.name);
    if (earlier)
      problems.add(
        'TRL_ADMISSION_DATA_OUTPUT',
        `${field}.name`,
        `dataOutput "${value.name}" is already declared at ${earlier}`,
      );
    else declared.set(value.name, field);
  }
  for (const { value, field } of inputs) {
    const name = value.valueFrom?.dataOutputName;
    if (!name) {
      if (!value.inputStore)
        problems.add(
          'TRL_ADMISSION_DATA_INPUT',
          `${field}.valueFrom.dataOutputName`,
          'a dataInput must name the dataOutput it reads (or an inputStore)',
        );
    } else if (!declared.has(name)) {
      const known = [...declared.keys()];
      problems.add(
        'TRL_ADMISSION_DATA_INPUT',
        `${field}.valueFrom.dataOutputName`,
        `no dataOutput named "${name}" is declared in this ApplicationConfiguration${known.length ? ` (declared: ${known.map((k) => `"${k}"`).join(', ')})` : ''}`,
      );
    }
  }
}
