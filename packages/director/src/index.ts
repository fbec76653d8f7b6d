export {
  type Applied,
  Director,
  DirectorError,
  type DirectorErrorCode,
  type DirectorFallback,
  type DirectorIpvs,
  type DirectorOptions,
  type DirectorTransition,
  type RealServerReport,
  type VirtualReport,
} from './director.js';
export {
  type DirectorTable,
  directorTable,
  type RealHealth,
  realServersOf,
  serviceKeyOfVirtual,
  type VirtualStatus,
} from './director-table.js';
export { describeOperation } from './operations.js';
