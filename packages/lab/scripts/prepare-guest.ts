// Builds (or finds) the lab guest's kernel image in the cache, so the first
// test run does not pay for the download. Run by scripts/setup-system.sh.
import { guestImageStatus, prepareGuestImage } from '../src/index.js';

const status = guestImageStatus();
if (status.ready) {
  process.stdout.write(`lab guest: ${status.reason}\n`);
} else if (!status.preparable) {
  process.stderr.write(`lab guest: ${status.reason}\n`);
} else {
  try {
    await prepareGuestImage({ log: (l) => process.stdout.write(`lab guest: ${l}\n`) });
  } catch (e) {
    process.stderr.write(`lab guest: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
