import { Client, type ClientConfig } from 'pg';

/** Where a team registry is: a PostgreSQL URL and the dataset's name in it. */
export interface TeamRegistrySpec {
  /** postgresql://user@host:port/db?sslmode=… — TLS and libpq-style options pass through to `pg`. */
  readonly url: string;
  /** The dataset's name (default: the root folder's base name). */
  readonly dataset?: string;
  /** A password from elsewhere (VS Code's SecretStorage); else the URL's, PGPASSWORD or ~/.pgpass. */
  readonly password?: string;
}

/** A connection that failed, a URL that is no PostgreSQL URL: one line, exit 1. */
export class TeamRegistryError extends Error {}

export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

/** The URL for messages and logs: never its password (in the authority or as a `password=` parameter). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '';
    for (const key of [...u.searchParams.keys()]) if (/^password$|^sslpassword$/i.test(key)) u.searchParams.set(key, '***');
    return u.toString();
  } catch {
    return 'the given registry URL';
  }
}

function checkUrl(url: string): void {
  if (!isPostgresUrl(url)) throw new TeamRegistryError(`not a PostgreSQL URL: ${redactUrl(url)} (expected postgresql://user@host[:port]/database)`);
  try {
    new URL(url);
  } catch {
    throw new TeamRegistryError(`not a valid PostgreSQL URL: ${redactUrl(url)}`);
  }
}

function reasonOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return reasonOf(err.errors[0]);
  if (err instanceof Error) return err.message || (err as NodeJS.ErrnoException).code || err.name;
  return String(err);
}

/**
 * The URL with a password from elsewhere (SecretStorage) in it: `pg` lets what it parses from the
 * connection string override its `password` option — an absent one included — so the password
 * must travel in the URL it parses. This URL is never printed (messages use redactUrl(spec.url)).
 */
function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

/**
 * Opens one connection. `pg` reads what the URL does not say from the libpq environment (PGHOST,
 * PGUSER, PGPASSWORD, …) and the password from ~/.pgpass; sslmode and the ssl* parameters of the
 * URL become its TLS options. A failure is one line naming the host and database and the
 * server's (or the network's) message, never the password.
 */
export async function connectTeam(spec: TeamRegistrySpec, connectTimeoutMs = 15_000): Promise<{ client: Client; location: string }> {
  checkUrl(spec.url);
  const config: ClientConfig = {
    connectionString: withPassword(spec.url, spec.password),
    application_name: 'dataset-index',
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
  };
  let client: Client;
  try {
    client = new Client(config);
  } catch (err) {
    throw new TeamRegistryError(`cannot use the team registry URL ${redactUrl(spec.url)}: ${reasonOf(err)}`);
  }
  const where = `${client.host.startsWith('/') ? `socket ${client.host}` : `host ${client.host}:${client.port}`}, database ${client.database ?? '(default)'}`;
  // A dropped connection mid-run surfaces in the query that needed it; this keeps the process alive until then.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new TeamRegistryError(`cannot connect to the team registry (${where}): ${reasonOf(err)}`);
  }
  return { client, location: redactUrl(spec.url) };
}
