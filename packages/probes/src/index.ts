export type { CheckOptions, CheckReason, CheckResult, CheckTarget } from './check.js';
export { checkConnect, checkExternal, checkFixed, checkHttp, checkSimpleTcp } from './check.js';
export type { CheckSpec, CheckType, Service } from './dispatch.js';
export { runCheck } from './dispatch.js';
export type { MonitoredServer, MonitorOptions, ServerState, Transition } from './monitor.js';
export { Monitor } from './monitor.js';
export { checkDns, dnsQuestion } from './services/dns.js';
export { checkFtp, parsePasv } from './services/ftp.js';
export type { ServiceOptions } from './services/session.js';
