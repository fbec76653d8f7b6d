export type { AuthKey, Authkeys, AuthMethod, ParseAuthkeysOptions } from './authkeys.js';
export { AUTH_METHODS, MAX_AUTH_INDEX, parseAuthkeys, writeAuthkeys } from './authkeys.js';
export type { ClusterFiles, Named } from './cluster.js';
export { checkCluster } from './cluster.js';
export type { ConfigDir, LoadedFile, LoadedLdirectord } from './config-dir.js';
export { findLdirectordCf, ldirectordCandidates, loadConfigDir, loadLdirectordCf } from './config-dir.js';
export type { ConfigErrorCode, ConfigErrorInit, ParseResult, SourcePosition } from './errors.js';
export { ConfigError, ConfigErrors } from './errors.js';
export type { AutoFailback, HaCf, HaCfDirective, HaCfSettings, HaMedium, ParseHaCfOptions } from './hacf.js';
export {
  HACF_DEFAULTS,
  HACF_DIRECTIVES,
  haCfFromDirectives,
  haCfTimeDirective,
  isInterfaceName,
  parseHaCf,
  parseHeartbeatBoolean,
  writeHaCf,
} from './hacf.js';
export type {
  HaIpAddress,
  HaResource,
  HaResourceGroup,
  Haresources,
  HaScriptResource,
} from './haresources.js';
export { parseHaresources, parseIpaddrSpec, writeHaresources } from './haresources.js';
export type {
  EmailAlertStatus,
  ForwardMethod,
  LdCheckType,
  LdFallback,
  LdGlobalSettings,
  LdGlobalValues,
  LdirectordConfig,
  LdNode,
  LdReal,
  LdService,
  LdSetting,
  LdVirtual,
  LdVirtualAddress,
  LdVirtualSettings,
  LdVirtualValues,
  ParseLdirectordOptions,
} from './ldirectord.js';
export {
  KERNEL_SCHEDULERS,
  LDIRECTORD_DIRECTIVES,
  ldPortNumber,
  parseLdirectordCf,
  parseLdirectordCfStrict,
  SERVICE_PORTS,
  virtualProtocol,
} from './ldirectord.js';
export type {
  LdResolved,
  LdResolvedConfig,
  LdResolvedGlobal,
  LdResolvedReal,
  LdResolvedVirtual,
  LdSource,
  ResolveLdirectordOptions,
} from './ldirectord-defaults.js';
export {
  LDIRECTORD_GLOBAL_DEFAULTS,
  ldServiceForPort,
  resolveLdirectordDefaults,
} from './ldirectord-defaults.js';
export { type WriteLdirectordOptions, writeLdirectordCf } from './ldirectord-write.js';
export { isIPv4, isIPv6 } from './source.js';
export { SYSLOG_FACILITIES, syslogFacility } from './syslog.js';
export { formatHeartbeatTime, parseHeartbeatTime } from './time.js';
