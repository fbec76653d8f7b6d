// Runs one @lvs-ha/vip operation in a separate process, so a test can run
// it with fewer privileges (setpriv) and read the outcome as JSON.
import { addAddress, announce, listAddresses, removeAddress } from '../../src/index.js';

const [op = '', arg = '', ifname = 'eth0'] = process.argv.slice(2);
try {
  const result =
    op === 'add'
      ? await addAddress(arg)
      : op === 'remove'
        ? await removeAddress(arg)
        : op === 'list'
          ? await listAddresses()
          : op === 'announce'
            ? await announce({ address: arg, interface: ifname, count: 1 })
            : (() => {
                throw new Error(`unknown op ${op}`);
              })();
  console.log(JSON.stringify({ ok: true, result }));
} catch (e) {
  const err = e as { name?: string; code?: string; message?: string };
  console.log(JSON.stringify({ ok: false, name: err.name, code: err.code, message: err.message }));
}
