// The control-socket client: one connection, one command at a time (BIRD
// answers in order; a queue keeps callers from interleaving), each reply
// checked: 8xxx/9xxx become BirdReplyError.
import { createConnection, type Socket } from 'node:net';
import {
  BirdArgumentError,
  BirdClosedError,
  BirdReplyError,
  BirdSocketError,
  BirdTimeoutError,
  BirdUnexpectedReplyError,
} from './errors.js';
import { encodeCommand, isErrorCode, REPLY, type Reply, ReplyDecoder } from './reply.js';
import {
  type BfdSession,
  type BirdStatus,
  type ProtocolInfo,
  parseBfdSessions,
  parseProtocols,
  parseRoutes,
  parseStatus,
  type Route,
} from './show.js';

export interface BirdClientOptions {
  /** per-command deadline (default 5000 ms) */
  timeoutMs?: number;
}

interface Waiter {
  command: string;
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/** Protocol names lvs-ha's config writer makes, and the only ones the client sends (no quoting issues, no patterns). */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class BirdClient {
  readonly path: string;
  /** BIRD's welcome line, e.g. "BIRD 2.0.12 ready." */
  readonly welcome: string;
  readonly #socket: Socket;
  readonly #decoder: ReplyDecoder;
  readonly #timeoutMs: number;
  readonly #waiters: Waiter[] = [];
  #chain: Promise<unknown> = Promise.resolve();
  #closed: Error | undefined;

  private constructor(
    path: string,
    socket: Socket,
    decoder: ReplyDecoder,
    welcome: string,
    timeoutMs: number,
  ) {
    this.path = path;
    this.#socket = socket;
    this.#decoder = decoder;
    this.welcome = welcome;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (chunk: string) => this.#data(chunk));
    socket.on('error', (e) => this.#fail(new BirdSocketError(path, e.message, e)));
    socket.on('close', () => this.#fail(new BirdClosedError(path, this.#waiters[0]?.command)));
  }

  /** Connects and reads BIRD's welcome (0001). */
  static connect(path: string, options: BirdClientOptions = {}): Promise<BirdClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path });
      socket.setEncoding('utf8');
      const decoder = new ReplyDecoder();
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new BirdTimeoutError('(welcome)', timeoutMs));
      }, timeoutMs);
      const onError = (e: Error) => {
        clearTimeout(timer);
        reject(new BirdSocketError(path, e.message, e));
      };
      const onData = (chunk: string) => {
        let replies: Reply[];
        try {
          replies = decoder.push(chunk);
        } catch (e) {
          clearTimeout(timer);
          socket.destroy();
          reject(e);
          return;
        }
        const first = replies[0];
        if (!first) return;
        clearTimeout(timer);
        socket.off('error', onError);
        socket.off('data', onData);
        socket.off('close', onClose);
        if (first.code !== REPLY.WELCOME) {
          socket.destroy();
          reject(new BirdUnexpectedReplyError('(welcome)', first.code, first.text, '0001 welcome'));
          return;
        }
        resolve(new BirdClient(path, socket, decoder, first.text, timeoutMs));
      };
      const onClose = () => {
        clearTimeout(timer);
        reject(new BirdClosedError(path, '(welcome)'));
      };
      socket.on('error', onError);
      socket.on('data', onData);
      socket.on('close', onClose);
    });
  }

  /**
   * Sends one command line and resolves with BIRD's reply; rejects with
   * BirdReplyError when BIRD answers 8xxx/9xxx.
   */
  command(line: string): Promise<Reply> {
    let encoded: string;
    try {
      encoded = encodeCommand(line);
    } catch (e) {
      return Promise.reject(new BirdArgumentError(line, (e as Error).message));
    }
    const run = this.#chain.then(() => this.#send(line, encoded));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #send(line: string, encoded: string): Promise<Reply> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise<Reply>((resolve, reject) => {
      const waiter: Waiter = { command: line, resolve, reject };
      waiter.timer = setTimeout(() => {
        // The connection's framing is lost with a reply half-read: close it.
        this.#fail(new BirdTimeoutError(line, this.#timeoutMs));
        this.#socket.destroy();
      }, this.#timeoutMs);
      this.#waiters.push(waiter);
      this.#socket.write(encoded);
    }).then((reply) => {
      if (isErrorCode(reply.code)) throw new BirdReplyError(line, reply.code, reply.text);
      return reply;
    });
  }

  #data(chunk: string): void {
    let replies: Reply[];
    try {
      replies = this.#decoder.push(chunk);
    } catch (e) {
      this.#fail(e as Error);
      this.#socket.destroy();
      return;
    }
    for (const reply of replies) {
      const waiter = this.#waiters.shift();
      if (!waiter) continue; // nothing asked: BIRD does not send unasked replies, ignore rather than die
      clearTimeout(waiter.timer);
      waiter.resolve(reply);
    }
  }

  #fail(error: Error): void {
    this.#closed ??= error;
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }

  /** `show protocols [all] [NAME]`. */
  async showProtocols(name?: string, options: { all?: boolean } = {}): Promise<ProtocolInfo[]> {
    const target = name === undefined ? '' : ` "${checkName(name)}"`;
    return parseProtocols(await this.command(`show protocols${options.all ? ' all' : ''}${target}`));
  }

  /** `show protocols all NAME`: one protocol with its BGP details and channels. */
  async protocol(name: string): Promise<ProtocolInfo> {
    const [info] = await this.showProtocols(name, { all: true });
    if (!info) throw new BirdUnexpectedReplyError(`show protocols all "${name}"`, 0, '', 'one protocol row');
    return info;
  }

  /** `show bfd sessions`: every BFD session; [] when no BFD protocol runs. */
  async bfdSessions(): Promise<BfdSession[]> {
    try {
      return parseBfdSessions(await this.command('show bfd sessions'));
    } catch (e) {
      // "There is no BFD protocol running" is an answer, not a failure.
      if (e instanceof BirdReplyError && /no BFD protocol/i.test(e.text)) return [];
      throw e;
    }
  }

  /** `enable NAME`: true when it was disabled (0011), false when already enabled (0010). */
  async enable(name: string): Promise<boolean> {
    return this.#toggle('enable', name, REPLY.ENABLED, REPLY.ALREADY_ENABLED);
  }

  /** `disable NAME`: true when it was enabled (0009), false when already disabled (0008). */
  async disable(name: string): Promise<boolean> {
    return this.#toggle('disable', name, REPLY.DISABLED, REPLY.ALREADY_DISABLED);
  }

  async #toggle(verb: string, name: string, changed: number, already: number): Promise<boolean> {
    const command = `${verb} "${checkName(name)}"`;
    const reply = await this.command(command);
    // The per-protocol line (0009/0011 or 0008/0010) comes before the closing 0000.
    const line = reply.lines.find((l) => l.code === changed || l.code === already);
    if (!line)
      throw new BirdUnexpectedReplyError(command, reply.code, reply.text, `${changed} or ${already}`);
    return line.code === changed;
  }

  /**
   * `configure [check] ["FILE"]`: check only parses (0020); otherwise BIRD
   * reconfigures (0003, or 0004/0005 when it is in progress or queued). A
   * bad file is a BirdReplyError with code BIRD_CONFIG_FILE_ERROR (8002)
   * and BIRD's file:line:column message. Note that a reconfiguration sets
   * every protocol whose `disabled` differs from the file's back to the
   * file's state: VIPs enabled at run time must be enabled again after it.
   */
  async configure(options: { check?: boolean; file?: string } = {}): Promise<Reply> {
    if (options.file !== undefined && /["\\\n\r]/.test(options.file))
      throw new BirdArgumentError(
        options.file,
        'a configuration path BIRD can read cannot hold quotes or backslashes',
      );
    const file = options.file === undefined ? '' : ` "${options.file}"`;
    const command = `configure${options.check ? ' check' : ''}${file}`;
    const reply = await this.command(command);
    const expected: number[] = options.check
      ? [REPLY.CONFIGURATION_OK]
      : [REPLY.RECONFIGURED, REPLY.RECONFIGURATION_IN_PROGRESS, REPLY.RECONFIGURATION_QUEUED];
    if (!expected.includes(reply.code)) {
      throw new BirdUnexpectedReplyError(command, reply.code, reply.text, expected.join('/'));
    }
    return reply;
  }

  /** `show status`: version, router id, "Daemon is up and running". */
  async status(): Promise<BirdStatus> {
    return parseStatus(await this.command('show status'));
  }

  /**
   * `show route [for ADDRESS] [table NAME] [all]`; [] when BIRD says
   * "Network not found" (8001). A table BIRD does not know is a
   * BirdReplyError (9001).
   */
  async routes(options: { for?: string; table?: string; all?: boolean } = {}): Promise<Route[]> {
    const target = options.for === undefined ? '' : ` for ${checkAddress(options.for)}`;
    const table = options.table === undefined ? '' : ` table ${checkName(options.table)}`;
    try {
      return parseRoutes(await this.command(`show route${target}${table}${options.all ? ' all' : ''}`));
    } catch (e) {
      if (e instanceof BirdReplyError && e.replyCode === REPLY.NETWORK_NOT_FOUND) return [];
      throw e;
    }
  }

  /** Closes the connection (pending commands fail with BirdClosedError). */
  close(): Promise<void> {
    if (this.#socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.end();
      setTimeout(() => this.#socket.destroy(), 500).unref();
    });
  }
}

function checkName(name: string): string {
  if (!NAME.test(name)) throw new BirdArgumentError(name, 'a protocol name is letters, digits and _ only');
  return name;
}

function checkAddress(text: string): string {
  if (!/^[0-9A-Fa-f.:/]+$/.test(text)) throw new BirdArgumentError(text, 'not an address or prefix');
  return text;
}
