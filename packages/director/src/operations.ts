// IPVS table changes in words, for the commands' output and logs.
import { describeDestination, describeService, type Operation } from '@lvs-ha/ipvs';

/** One table change as ipvsadm would be told it. */
export function describeOperation(op: Operation): string {
  const service = describeService(op.service);
  switch (op.op) {
    case 'add-service':
      return `add virtual ${service} (${op.service.scheduler ?? 'wlc'})`;
    case 'edit-service':
      return `edit virtual ${service} (${op.service.scheduler ?? 'wlc'})`;
    case 'delete-service':
      return `delete virtual ${service}`;
    case 'add-destination':
      return `add real ${describeDestination(op.destination)} to ${service} (${op.destination.forward ?? 'gate'}, weight ${op.destination.weight ?? 1})`;
    case 'edit-destination':
      return `edit real ${describeDestination(op.destination)} of ${service} (${op.destination.forward ?? 'gate'}, weight ${op.destination.weight ?? 1})`;
    case 'delete-destination':
      return `delete real ${describeDestination(op.destination)} from ${service}`;
  }
}
