import type { ApplicationConfigurationSpec } from '../../apis/generated/core.oam.dev-v1alpha2.js';
import type { Problems } from '../problems.js';

/** Each component entry follows a Component (`componentName`) or pins a revision (`revisionName`): exactly one (DESIGN.md §4.2). */
export function checkComponentReferences(spec: ApplicationConfigurationSpec | undefined, problems: Problems): void {
  (spec?.components ?? []).forEach((entry, i) => {
    const field = `spec.components[${i}]`;
    if (entry.componentName && entry.revisionName) {
      problems.add(
        'TRL_ADMISSION_COMPONENT_REF',
        field,
        `set either componentName ("${entry.componentName}", follow the latest revision) or revisionName ("${entry.revisionName}", pin one revision), not both`,
      );
    } else if (!entry.componentName && !entry.revisionName) {
      problems.add(
        'TRL_ADMISSION_COMPONENT_REF',
        field,
        'set componentName (follow the latest revision) or revisionName (pin one revision)',
      );
    }
  });
}
