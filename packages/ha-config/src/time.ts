// Heartbeat's time syntax (get_msec in Heartbeat 3.0.6): a decimal number of
// seconds, or a number followed by a unit word starting with `ms` (milli-
// seconds) or `us` (microseconds), case-insensitive. `2s` is NOT accepted by
// Heartbeat (it refuses unknown units), so we refuse it too.

const TIME = /^(\d+(?:\.\d*)?|\.\d+)([A-Za-z]*)$/;

/** Milliseconds for a Heartbeat time value, or undefined when Heartbeat would refuse it. */
export function parseHeartbeatTime(text: string): number | undefined {
  const m = TIME.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? '').toLowerCase();
  let ms: number;
  if (unit === '') ms = n * 1000;
  else if (unit === 'ms' || unit === 'msec') ms = n;
  else if (unit === 'us' || unit === 'usec') ms = n / 1000;
  else return undefined;
  // Heartbeat rounds to the nearest millisecond.
  const rounded = Math.floor(ms + 0.5);
  return Number.isSafeInteger(rounded) ? rounded : undefined;
}

/** The shortest Heartbeat time text for a number of milliseconds. */
export function formatHeartbeatTime(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : `${ms}ms`;
}
