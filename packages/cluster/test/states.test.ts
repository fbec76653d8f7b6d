// NotifyStates: what a notify hook is told, from what the ClusterNode did.
import { describe, expect, it } from 'vitest';
import { NotifyStates, type StateChange } from '../src/states.js';

const said = (cs: StateChange[]) => cs.map((c) => `${c.type} ${c.name} ${c.state} ${c.reason}`);

describe('NotifyStates', () => {
  it('join, takeover, standby, stop: each change once, the node after its groups', () => {
    const s = new NotifyStates('load1', ['192.0.2.50/32/eth0', 'httpd']);
    expect(said(s.joined())).toEqual([
      'GROUP 192.0.2.50/32/eth0 BACKUP join',
      'GROUP httpd BACKUP join',
      'NODE load1 BACKUP join',
    ]);
    expect(said(s.acquired('192.0.2.50/32/eth0', 'mach_down'))).toEqual([
      'GROUP 192.0.2.50/32/eth0 MASTER mach_down',
      'NODE load1 MASTER mach_down',
    ]);
    expect(said(s.acquired('httpd', 'mach_down'))).toEqual(['GROUP httpd MASTER mach_down']);
    // asked twice: nothing new
    expect(s.acquired('httpd', 'mach_down')).toEqual([]);
    expect(said(s.released('httpd', 'standby', false))).toEqual(['GROUP httpd BACKUP standby']);
    expect(said(s.released('192.0.2.50/32/eth0', 'standby', false))).toEqual([
      'GROUP 192.0.2.50/32/eth0 BACKUP standby',
      'NODE load1 BACKUP standby',
    ]);
    expect(said(s.stopped())).toEqual([
      'GROUP 192.0.2.50/32/eth0 STOP stop',
      'GROUP httpd STOP stop',
      'NODE load1 STOP stop',
    ]);
    expect(s.stopped()).toEqual([]);
  });

  it('a shutdown releasing a held group says STOP for it, and no BACKUP for the node before its STOP', () => {
    const s = new NotifyStates('load1', ['a', 'b']);
    s.joined();
    s.acquired('a', 'req_our_resources');
    expect(said(s.released('a', 'shutdown', true))).toEqual(['GROUP a STOP shutdown']);
    expect(said(s.stopped())).toEqual(['GROUP b STOP stop', 'NODE load1 STOP stop']);
  });

  it('a group that cannot start is FAULT (the node stays what it was), then MASTER when it starts', () => {
    const s = new NotifyStates('load2', ['a']);
    s.joined();
    expect(said(s.failed('a'))).toEqual(['GROUP a FAULT start-failed']);
    expect(s.current().node).toBe('BACKUP');
    expect(said(s.acquired('a', 'standby'))).toEqual(['GROUP a MASTER standby', 'NODE load2 MASTER standby']);
  });

  it('fail-stop: what was held is FAULT, then the node; a later release says nothing more', () => {
    const s = new NotifyStates('load1', ['a', 'b']);
    s.joined();
    s.acquired('a', 'mach_down');
    expect(said(s.failStop())).toEqual(['GROUP a FAULT fail-stop', 'NODE load1 FAULT fail-stop']);
    expect(s.failStop()).toEqual([]);
    expect(said(s.released('a', 'x', false))).toEqual(['GROUP a BACKUP x']);
    expect(s.current().node).toBe('FAULT');
  });

  it('a node that never joined says nothing when it stops; groups it does not know are ignored', () => {
    const s = new NotifyStates('load1', ['a']);
    expect(s.stopped()).toEqual([]);
    s.joined();
    expect(s.acquired('nope', 'x')).toEqual([]);
  });
});
