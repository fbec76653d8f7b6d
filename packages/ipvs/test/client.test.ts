import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  InvalidArgumentError,
  IPVS_CMD,
  Ipvs,
  IpvsKernelError,
  type NetlinkTransport,
  NLM_F,
} from '../src/index.js';
import { FakeKernel } from './helpers/fake-kernel.js';

const web = { protocol: 'tcp', address: '192.0.2.50', port: 80 } as const;

async function open() {
  const kernel = new FakeKernel();
  const ipvs = await Ipvs.open({ transport: kernel });
  return { kernel, ipvs };
}

describe('Ipvs over a fake kernel (the transport seam)', () => {
  it('resolves the family, adds, lists, edits and deletes', async () => {
    const { ipvs } = await open();
    expect(ipvs.familyId).toBe(0x1c);
    await ipvs.addService({ ...web, scheduler: 'wrr' });
    await ipvs.addDestination(web, { address: '192.0.2.21', port: 80, weight: 5 });
    await ipvs.addDestination(web, { address: '192.0.2.22', port: 80, weight: 3, forward: 'masq' });
    await ipvs.editDestination(web, { address: '192.0.2.22', port: 80, weight: 1, forward: 'masq' });
    await ipvs.deleteDestination(web, { address: '192.0.2.21', port: 80 });
    const table = await ipvs.getTable();
    expect(table).toHaveLength(1);
    expect(table[0]).toMatchObject({ ...web, scheduler: 'wrr', hashed: true });
    expect(table[0]?.destinations).toEqual([
      expect.objectContaining({ address: '192.0.2.22', port: 80, weight: 1, forward: 'masq' }),
    ]);
    expect(await ipvs.getService(web)).toMatchObject({ scheduler: 'wrr' });
    expect(await ipvs.info()).toEqual({ version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 });
    expect(await ipvs.getTimeouts()).toEqual({ tcp: 900, tcpFin: 120, udp: 300 });
    await ipvs.deleteService(web);
    expect(await ipvs.listServices()).toEqual([]);
    ipvs.close();
  });

  it('turns errnos from the NLMSG_ERROR payload into typed errors with sentences', async () => {
    const { ipvs } = await open();
    await ipvs.addService(web);
    const err = async (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as IpvsKernelError,
      );
    const dup = await err(ipvs.addService(web));
    expect(dup).toBeInstanceOf(IpvsKernelError);
    expect(dup).toMatchObject({
      code: 'SERVICE_EXISTS',
      errno: 17,
      errnoName: 'EEXIST',
      command: 'NEW_SERVICE',
    });
    expect(dup?.message).toBe('service 192.0.2.50:80/tcp already exists (EEXIST)');
    expect((await err(ipvs.addService({ ...web, port: 81, scheduler: 'foo' })))?.message).toBe(
      'scheduler `foo` is not loaded (no module ip_vs_foo) (ENOENT)',
    );
    expect(await err(ipvs.getService({ ...web, port: 82 }))).toMatchObject({
      code: 'NO_SUCH_SERVICE',
      errno: 3,
      message: 'service 192.0.2.50:82/tcp does not exist (ESRCH)',
    });
    expect(await err(ipvs.deleteDestination(web, { address: '2001:db8::1', port: 80 }))).toMatchObject({
      code: 'NO_SUCH_DESTINATION',
      message: 'real server [2001:db8::1]:80 is not in service 192.0.2.50:80/tcp (ENOENT)',
    });
    expect(await err(ipvs.editService({ fwmark: 9, family: 'inet6' }))).toMatchObject({
      message: 'service fwmark 9 (IPv6) does not exist (ESRCH)',
    });
    ipvs.close();
  });

  it('refuses bad input without sending anything', async () => {
    const { ipvs, kernel } = await open();
    const before = kernel.datagrams;
    await expect(ipvs.addService({ ...web, address: '192.0.2.500' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(
      ipvs.apply([
        { op: 'add-service', service: web },
        { op: 'add-destination', service: web, destination: { address: '192.0.2.1', port: 80, weight: -1 } },
      ]),
    ).rejects.toThrow(/weight/);
    expect(kernel.datagrams).toBe(before);
    ipvs.close();
  });

  it('pipelines a batch: one datagram, one ACK requested, failures reported per operation', async () => {
    const { ipvs, kernel } = await open();
    kernel.received.length = 0;
    const before = kernel.datagrams;
    const ops = [
      { op: 'add-service' as const, service: { ...web, scheduler: 'rr' } },
      ...Array.from({ length: 50 }, (_, i) => ({
        op: 'add-destination' as const,
        service: web,
        destination: { address: `198.51.100.${i + 1}`, port: 80 },
      })),
      { op: 'add-destination' as const, service: web, destination: { address: '198.51.100.1', port: 80 } },
      { op: 'add-destination' as const, service: web, destination: { address: '198.51.100.99', port: 80 } },
    ];
    const results = await ipvs.apply(ops);
    expect(kernel.datagrams - before).toBe(1);
    expect(kernel.received).toHaveLength(53);
    expect(kernel.received.filter((m) => m.flags & NLM_F.ACK)).toHaveLength(1);
    expect(results.map((r) => r.error?.code ?? 'ok')).toEqual([
      ...Array(51).fill('ok'),
      'DESTINATION_EXISTS',
      'ok',
    ]);
    expect((await ipvs.listDestinations(web)).length).toBe(51);
    ipvs.close();
  });

  it('splits a large batch into several datagrams', async () => {
    const kernel = new FakeKernel();
    const ipvs = await Ipvs.open({ transport: kernel, maxDatagram: 1024 });
    const before = kernel.datagrams;
    await ipvs.applyAll([
      { op: 'add-service', service: web },
      ...Array.from({ length: 40 }, (_, i) => ({
        op: 'add-destination' as const,
        service: web,
        destination: { address: `198.51.100.${i + 1}`, port: 80 },
      })),
    ]);
    expect(kernel.datagrams - before).toBeGreaterThan(4);
    expect(kernel.received.filter((m) => m.cmd === IPVS_CMD.NEW_DEST)).toHaveLength(40);
    ipvs.close();
  });
});

describe('the channel when the kernel side misbehaves', () => {
  const silent = (): NetlinkTransport => ({ send: async () => {}, listen: () => {}, close: () => {} });

  it('times out with a typed error when nothing answers', async () => {
    await expect(Ipvs.open({ transport: silent(), timeoutMs: 50 })).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/no answer from the kernel/),
    });
  });

  it('reports a failed write as TRANSPORT, and a socket error fails what is in flight', async () => {
    const failing: NetlinkTransport = { ...silent(), send: async () => Promise.reject(new Error('EPERM')) };
    await expect(Ipvs.open({ transport: failing })).rejects.toMatchObject({ code: 'TRANSPORT' });
    let onError: ((e: Error) => void) | undefined;
    const erroring: NetlinkTransport = {
      ...silent(),
      listen: (_d, e) => {
        onError = e;
      },
      send: async () => {
        queueMicrotask(() => onError?.(Object.assign(new Error('No buffer space'), { code: 'ENOBUFS' })));
      },
    };
    await expect(Ipvs.open({ transport: erroring })).rejects.toMatchObject({
      code: 'TRANSPORT',
      message: expect.stringMatching(/dropped replies .* unknown/),
    });
  });

  it('a malformed datagram from the kernel side rejects the request instead of crashing', async () => {
    let deliver: ((d: Uint8Array) => void) | undefined;
    const garbage: NetlinkTransport = {
      ...silent(),
      listen: (d) => {
        deliver = d;
      },
      send: async () => {
        queueMicrotask(() => deliver?.(Uint8Array.from([0xff, 0xff, 0, 0, 1, 2, 3])));
      },
    };
    await expect(Ipvs.open({ transport: garbage })).rejects.toBeInstanceOf(DecodeError);
  });

  it('refuses requests after close()', async () => {
    const { ipvs } = await open();
    ipvs.close();
    await expect(ipvs.listServices()).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
