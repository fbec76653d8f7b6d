export {
  type Applied,
  Director,
  DirectorError,
  type DirectorErrorCode,
  type DirectorIpvs,
  type DirectorOptions,
  type DirectorTransition,
} from './director.js';
export {
  type DirectorTable,
  directorTable,
  type RealHealth,
  serviceKeyOfVirtual,
  type VirtualStatus,
} from './director-table.js';
export { describeOperation } from './operations.js';
