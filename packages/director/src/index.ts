export {
  ACTIVE_ACTIVE_FLAGS,
  type ActiveActiveLdirectord,
  activeActiveLdirectord,
  healthyVips,
} from './active-active.js';
export {
  type Applied,
  CONNECTION_SYSCTLS,
  Director,
  DirectorError,
  type DirectorErrorCode,
  type DirectorFallback,
  type DirectorIpvs,
  type DirectorOptions,
  type DirectorSysctl,
  type DirectorSysctlChange,
  type DirectorTransition,
  DRAIN_SETTLE_MS,
  type DrainResult,
  describeSysctlChange,
  type RealServerReport,
  type VirtualReport,
} from './director.js';
export {
  type DirectorTable,
  directorTable,
  overrideKey,
  type RealHealth,
  type RealOverride,
  type RealSelector,
  realServersOf,
  selectReals,
  serviceKeyOfVirtual,
  type VirtualStatus,
} from './director-table.js';
export { describeOperation } from './operations.js';
