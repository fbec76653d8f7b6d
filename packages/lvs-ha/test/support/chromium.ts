// Debian's Chromium for the status page's tests (playwright-core drives it;
// no browser is downloaded). A suite that needs it is skipped with the
// reason printed when it is missing (CI=true turns the skip into a failure).
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the page's browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is not installed (apt-get install chromium)`;
  return undefined;
}

/** The flags of every launch: headless as root in a container (no sandbox), no /dev/shm needed, no GPU. */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'];
