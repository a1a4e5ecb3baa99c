import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

/**
 * A throwaway PostgreSQL cluster for tests: `initdb` into a temp dir as an unprivileged user
 * (PostgreSQL refuses to run as root), listening on a Unix socket in that dir and on a random
 * loopback port, password authentication (scram) for every connection, stopped by `stop()`.
 */
export interface PgCluster {
  dir: string;
  port: number;
  socketDir: string;
  /** Superuser `postgres`, its password. */
  superPassword: string;
  /** postgresql://user:password@127.0.0.1:port/db */
  url(user: string, password: string | null, db?: string): string;
  /** Runs SQL as the superuser (test setup: roles, databases, grants). */
  sql(text: string, db?: string): Promise<void>;
  stop(): void;
}

const BIN_DIRS = ['/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'];
const UNPRIVILEGED = 65534; // nobody

export function pgBinDir(): string | null {
  for (const dir of BIN_DIRS) if (fs.existsSync(path.join(dir, 'initdb'))) return dir;
  return null;
}

/** Whether a cluster can be started here: PostgreSQL installed, and (as root) a way to drop privileges. */
export function canStartCluster(): boolean {
  if (!pgBinDir()) return false;
  return process.getuid?.() !== 0 || fs.existsSync('/usr/bin/setpriv');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address() as net.AddressInfo;
      srv.close(() => resolve(addr.port));
    });
  });
}

function asPostgresUser(bin: string, args: string[]): string[] {
  if (process.getuid?.() !== 0) return [bin, ...args];
  return ['/usr/bin/setpriv', `--reuid=${UNPRIVILEGED}`, `--regid=${UNPRIVILEGED}`, '--clear-groups', bin, ...args];
}

function run(argv: string[], input?: string): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
}

export async function startCluster(label = 'pg'): Promise<PgCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  // Short: a Unix socket path must fit in 107 bytes.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dsx-${label}-`));
  if (process.getuid?.() === 0) fs.chownSync(dir, UNPRIVILEGED, UNPRIVILEGED);
  const data = path.join(dir, 'data');
  const superPassword = `pw-${Math.random().toString(36).slice(2)}`;
  const pwFile = path.join(dir, 'pw');
  fs.writeFileSync(pwFile, superPassword + '\n', { mode: 0o600 });
  if (process.getuid?.() === 0) fs.chownSync(pwFile, UNPRIVILEGED, UNPRIVILEGED);
  run(asPostgresUser(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', `--pwfile=${pwFile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C', '-N']));
  const port = await freePort();
  fs.appendFileSync(
    path.join(data, 'postgresql.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${dir}'`,
      // A test cluster: losing it on a crash costs nothing, waiting for the disk costs every test.
      'fsync = off', 'synchronous_commit = off', 'full_page_writes = off',
      'max_connections = 60', 'shared_buffers = 64MB', "log_min_messages = warning",
    ].join('\n') + '\n',
  );
  run(asPostgresUser(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', '-t', '60', 'start']));
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    const argv = asPostgresUser(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    spawnSync(argv[0], argv.slice(1), { stdio: 'ignore' });
    fs.rmSync(dir, { recursive: true, force: true });
  };
  // A test process that dies without after() must not leave a server behind.
  process.once('exit', stop);
  const url = (user: string, password: string | null, db = 'postgres'): string =>
    `postgresql://${encodeURIComponent(user)}${password === null ? '' : ':' + encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
  return {
    dir, port, socketDir: dir, superPassword, url,
    sql: async (text, db = 'postgres') => {
      const c = new Client({ connectionString: url('postgres', superPassword, db) });
      await c.connect();
      try {
        await c.query(text);
      } finally {
        await c.end();
      }
    },
    stop,
  };
}
