// ha.cf's logfacility as Heartbeat reads it (a facility it does not know
// keeps it from starting), the facility table the loggers share, and a
// virtual service on an address haresources does not bring up (a warning:
// both daemons accept it).
import { describe, expect, it } from 'vitest';
import {
  checkCluster,
  parseHaCf,
  parseHaresources,
  parseLdirectordCf,
  SYSLOG_FACILITIES,
  syslogFacility,
} from '../src/index.js';

const base = 'bcast eth1\nauto_failback on\nnode load1 load2\n';

describe('logfacility', () => {
  it('accepts the facilities and none, as Heartbeat does', () => {
    for (const f of ['local0', 'local7', 'daemon', 'auth', 'authpriv', 'user', 'none', 'LOCAL1']) {
      const r = parseHaCf(`logfacility ${f}\n${base}`, { file: 'ha.cf' });
      expect(r.problems, f).toEqual([]);
      expect(r.value.settings.other['logfacility']).toBe(f);
    }
  });

  it('refuses a name that is no facility, at its position, with the one meant', () => {
    const r = parseHaCf(`${base}logfacility  lcal0\n`, { file: 'ha.cf' });
    expect(r.problems.map((p) => [p.code, p.severity, p.message])).toEqual([
      ['BAD_VALUE', 'error', "ha.cf:4:14: 'lcal0' is not a syslog facility (did you mean 'local0'?)"],
    ]);
  });

  it('numbers the facilities as syslog.h does', () => {
    expect(syslogFacility('daemon')).toBe(3);
    expect(syslogFacility('local0')).toBe(16);
    expect(syslogFacility('LOG_LOCAL1')).toBe(17);
    expect(syslogFacility('toString')).toBeUndefined();
    expect(syslogFacility('nonsense')).toBeUndefined();
    expect(Object.keys(SYSLOG_FACILITIES)).toHaveLength(21);
  });
});

describe('checkCluster: virtual services and VIPs', () => {
  it('a virtual service on an address haresources does not bring up is a warning', () => {
    const problems = checkCluster({
      haresources: {
        file: 'haresources',
        value: parseHaresources('load1 12.3.4.51/32/eth0 ldirectord\n').value,
      },
      ldirectord: {
        file: 'ldirectord.cf',
        value: parseLdirectordCf('virtual = 12.3.4.50:80\n\treal = 12.3.4.100:80 gate\n').value,
      },
    });
    expect(problems.map((p) => [p.severity, p.message])).toEqual([
      [
        'warning',
        'ldirectord.cf:1:1: virtual service on 12.3.4.50 but haresources brings up no such address: unless it is brought up elsewhere, no director receives its traffic (add 12.3.4.50/32/IFACE to the resource group in haresources)',
      ],
      [
        'warning',
        "haresources:1:7: VIP 12.3.4.51 has no virtual service in ldirectord.cf (add 'virtual = 12.3.4.51:PORT' to ldirectord.cf, or drop the address)",
      ],
    ]);
  });
});
