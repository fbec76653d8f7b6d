export { type CliCommand, type CliIo, runCli } from './cli-main.js';
export {
  type SystemdUnitOptions,
  systemdQuote,
  systemdUnit,
  watchdogSecFor,
} from './commands/systemd-unit.js';
export {
  askControl,
  type ControlAnswer,
  ControlError,
  type ControlRequest,
  DEFAULT_CONTROL_SOCKET,
  parseControlRequest,
  serveControl,
} from './control.js';
export {
  BadNotifySocketError,
  BadNotifyStateError,
  clusterStatusLine,
  formatNotifyState,
  monotonicUsec,
  NotifySendError,
  type NotifyState,
  notify,
  SYSTEMD_NOTIFY_ENVIRONMENT,
  SystemdError,
  type SystemdErrorCode,
  SystemdNotifier,
  type SystemdNotifierOptions,
  watchdogInterval,
  watchdogUsec,
} from './systemd.js';
