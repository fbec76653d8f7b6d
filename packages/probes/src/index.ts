export type { CheckOptions, CheckReason, CheckResult, CheckTarget } from './check.js';
export { checkConnect, checkExternal, checkFixed, checkHttp, checkSimpleTcp } from './check.js';
export type { CheckSpec, CheckType, Service } from './dispatch.js';
export { ldirectordTimeouts, runCheck } from './dispatch.js';
export type { LdirectordMonitorConfig, LdirectordServer } from './from-ldirectord.js';
export { monitorFromLdirectord, monitorFromLdirectordCf } from './from-ldirectord.js';
export { maintenanceFile, maintenanceFileNames } from './maintenance.js';
export type {
  CheckCounts,
  MonitorCheckType,
  MonitoredServer,
  MonitorOptions,
  MonitorSpec,
  ServerState,
  Transition,
} from './monitor.js';
export { CHECK_DURATION_BUCKETS, Monitor } from './monitor.js';
export type { PingOptions } from './ping.js';
export { checkPing, pingMethod } from './ping.js';
export { checkDns, dnsQuestion } from './services/dns.js';
export { checkFtp, parseEpsv, parsePasv } from './services/ftp.js';
export { checkHttpProxy, proxyUri } from './services/http-proxy.js';
export { checkLdap, ldapBase } from './services/ldap.js';
export { checkImap, checkPop, imapQuote } from './services/mail.js';
export { checkNntp } from './services/nntp.js';
export { checkRadius } from './services/radius.js';
export type { ServiceOptions } from './services/session.js';
export { checkSip, parseSipResponse, sipOptionsRequest } from './services/sip.js';
export { checkSmtp } from './services/smtp.js';
export { checkMysql, checkPgsql, sqlQuery } from './services/sql.js';
