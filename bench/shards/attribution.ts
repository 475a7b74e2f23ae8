import type { AuditEvent } from '../../controlplane/index.js';
import { shardOf } from '../../runtime/index.js';

const APP_NAME = /^app-\d{4}/;
const COMPONENT_NAME = /^app-\d{4}-(?:web|api)/;

/**
 * The shard a write of the bench's apps belongs to: a Component and its revisions by the Component's
 * key, an AppConfig and its children by the AppConfig's; undefined for anything else.
 */
export const shardOfWrite =
  (namespace: string, shards: number) =>
  (e: AuditEvent): number | undefined => {
    const ref = e.objectRef;
    if (ref?.namespace !== namespace || !ref.name) return undefined;
    if (ref.resource === 'components' || ref.resource === 'controllerrevisions') {
      const component = COMPONENT_NAME.exec(ref.name)?.[0];
      return component ? shardOf(`${namespace}/${component}`, shards) : undefined;
    }
    if (['applicationconfigurations', 'deployments', 'services', 'ingresses'].includes(ref.resource ?? '')) {
      const app = APP_NAME.exec(ref.name)?.[0];
      return app ? shardOf(`${namespace}/${app}`, shards) : undefined;
    }
    return undefined;
  };
