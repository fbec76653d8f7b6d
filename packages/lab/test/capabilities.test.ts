import { expect, it } from 'vitest';
import { capabilities, type LabCapabilities, missingFor } from '../src/index.js';

const none: LabCapabilities = {
  root: false,
  netns: false,
  hostIpvs: false,
  guest: false,
  reasons: ['not running as root'],
};
const all: LabCapabilities = { root: true, netns: true, hostIpvs: true, guest: true, reasons: [] };

it('says what is missing for each need, with the machine reasons', () => {
  expect(missingFor(['root', 'netns'], none)).toEqual([
    'needs root',
    'needs network namespaces',
    '(not running as root)',
  ]);
  expect(missingFor(['root', 'netns', 'guest', 'ipvs'], all)).toEqual([]);
});

it('accepts IPVS from either the host kernel or the guest', () => {
  expect(missingFor(['ipvs'], { ...none, guest: true })).toEqual([]);
  expect(missingFor(['ipvs'], { ...none, hostIpvs: true })).toEqual([]);
  expect(missingFor(['ipvs'], none)[0]).toBe('needs kernel IPVS (host or qemu guest)');
});

it('probes this machine consistently', async () => {
  const caps = await capabilities();
  expect(caps.root).toBe(process.getuid?.() === 0);
  if (!caps.root) expect(caps.netns).toBe(false);
  // Every missing capability comes with a reason.
  const missingCount = [caps.root, caps.netns, caps.hostIpvs, caps.guest].filter((x) => !x).length;
  expect(caps.reasons.length >= (missingCount > 0 ? 1 : 0)).toBe(true);
  expect(caps.hostIpvs).toBe(await import('node:fs').then((fs) => fs.existsSync('/proc/net/ip_vs')));
});
