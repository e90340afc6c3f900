/** A Temporal dev server on its own SQLite file and port, which a bench can stop and start again. */
import { freePort, startDevServer, type DevServer } from '../../src/temporal/dev-server';

export class RestartableServer {
  private constructor(
    private server: DevServer,
    private readonly dbFile: string,
    private readonly port: number,
  ) {}

  /** Starts a headless dev server on a free port, keeping its state in `dbFile`. */
  static async start(dbFile: string): Promise<RestartableServer> {
    const port = await freePort();
    return new RestartableServer(await RestartableServer.spawn(dbFile, port), dbFile, port);
  }

  private static spawn(dbFile: string, port: number): Promise<DevServer> {
    return startDevServer({ dbFile, port, uiPort: false, log: () => undefined });
  }

  get address(): string {
    return this.server.address;
  }

  /** Stops the server and starts it again on the same port and database file. */
  async restart(): Promise<void> {
    await this.server.stop();
    this.server = await RestartableServer.spawn(this.dbFile, this.port);
  }

  stop(): Promise<void> {
    return this.server.stop();
  }
}
