export { ConfigError, ConfigErrors } from './errors.js';
export type { ConfigErrorCode, ConfigErrorInit, SourcePosition } from './errors.js';
