export { type CliCommand, type CliIo, runCli } from './cli-main.js';
export {
  askControl,
  type ControlAnswer,
  ControlError,
  type ControlRequest,
  DEFAULT_CONTROL_SOCKET,
  parseControlRequest,
  serveControl,
} from './control.js';
