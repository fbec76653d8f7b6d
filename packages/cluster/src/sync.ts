// IPVS connection synchronisation between the directors, switched with the
// groups: the director holding an ldirectord group runs the kernel's sync
// daemon as master (it multicasts its connection table), every director runs
// one as backup (it learns the peer's connections). When the holder dies,
// the new holder already knows every established connection and forwards
// their next packets to the same real server instead of resetting them.
// A backup daemon also runs on the holder: it learns nothing there (the
// standby has no connections) and needs no switching when roles change.
import { type Daemon, type DaemonSpec, Ipvs } from '@lvs-ha/ipvs';

export interface ConnectionSyncOptions {
  /** The interface the sync multicast goes over (usually the directors' private heartbeat link). */
  interface: string;
  /** Sync id both directors use (default 0, ipvsadm's --syncid default). */
  syncId?: number;
  say: (line: string) => void;
  open?: () => Promise<Pick<Ipvs, 'startDaemon' | 'stopDaemon' | 'listDaemons'> & { close(): void }>;
}

export class ConnectionSync {
  private ipvs: (Pick<Ipvs, 'startDaemon' | 'stopDaemon' | 'listDaemons'> & { close(): void }) | undefined;
  private master = false;
  private broken = false;

  constructor(private readonly o: ConnectionSyncOptions) {}

  private spec(state: 'master' | 'backup'): DaemonSpec {
    return { state, interface: this.o.interface, syncId: this.o.syncId ?? 0 };
  }

  /** Starts the backup daemon (learning the peer's connections). A machine without IPVS says so once. */
  async start(): Promise<void> {
    try {
      this.ipvs = await (this.o.open ?? (() => Ipvs.open()))();
      // a master left by a run that was killed: we hold nothing yet
      if ((await this.ipvs.listDaemons()).some((d) => d.state === 'master'))
        await this.ipvs.stopDaemon('master');
      await this.ensure('backup');
      this.o.say(`connection sync: backup daemon on ${this.o.interface} (syncid ${this.o.syncId ?? 0})`);
    } catch (e) {
      this.broken = true;
      this.o.say(`warning connection sync is off: ${(e as Error).message}`);
    }
  }

  /** Master while `holding` (an ldirectord group is held here), not otherwise. */
  async holding(holding: boolean): Promise<void> {
    if (this.broken || !this.ipvs || holding === this.master) return;
    try {
      if (holding) await this.ensure('master');
      else await this.ipvs.stopDaemon('master');
      this.master = holding;
      this.o.say(`connection sync: master daemon ${holding ? 'started' : 'stopped'} on ${this.o.interface}`);
    } catch (e) {
      this.o.say(`error connection sync: ${(e as Error).message}`);
    }
  }

  /** Stops both daemons (a clean shutdown). */
  async stop(): Promise<void> {
    if (!this.ipvs) return;
    for (const state of ['master', 'backup'] as const)
      await this.ipvs.stopDaemon(state).catch(() => undefined);
    this.ipvs.close();
    this.ipvs = undefined;
  }

  /** Starts `state`'s daemon unless one runs already as we want it (a restart after a crash finds it running). */
  private async ensure(state: 'master' | 'backup'): Promise<void> {
    const ipvs = this.ipvs as NonNullable<typeof this.ipvs>;
    const running: Daemon | undefined = (await ipvs.listDaemons()).find((d) => d.state === state);
    if (running && running.interface === this.o.interface && running.syncId === (this.o.syncId ?? 0)) return;
    if (running) await ipvs.stopDaemon(state);
    await ipvs.startDaemon(this.spec(state));
  }
}
