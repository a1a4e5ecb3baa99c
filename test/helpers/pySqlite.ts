import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A real, long-running writer: python3's sqlite3 module holding the database open in another
 * process, as a running pipeline does. It runs one SQL statement per request and answers with
 * the rows as JSON, so a test can commit, checkpoint or leave a transaction open at will.
 */
const WRITER = `
import json, sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    try:
        rows = con.execute(json.loads(line)).fetchall()
        print(json.dumps({"rows": rows}), flush=True)
    except Exception as e:
        print(json.dumps({"error": str(e)}), flush=True)
`;

export class PyWriter {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly replies: ((line: string) => void)[] = [];
  private readonly ready: Promise<void>;

  constructor(file: string) {
    this.child = spawn('python3', ['-c', WRITER, file]);
    const lines = createInterface({ input: this.child.stdout });
    let started: () => void = () => undefined;
    this.ready = new Promise((r) => (started = r));
    let first = true;
    lines.on('line', (line) => {
      if (first) {
        first = false;
        started();
        return;
      }
      this.replies.shift()?.(line);
    });
  }

  async sql(statement: string): Promise<unknown[][]> {
    await this.ready;
    const line = await new Promise<string>((resolve) => {
      this.replies.push(resolve);
      this.child.stdin.write(`${JSON.stringify(statement)}\n`);
    });
    const reply = JSON.parse(line) as { rows?: unknown[][]; error?: string };
    if (reply.error !== undefined) throw new Error(`python sqlite3: ${reply.error} (in ${statement})`);
    return reply.rows ?? [];
  }

  /** Closes stdin without a commit: an open transaction is rolled back, as a killed pipeline's would be. */
  async close(): Promise<void> {
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    await exited;
  }

  /** Kills the writer with its connection still open (its WAL and -shm stay as they are). */
  async kill(): Promise<void> {
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** What a separate Python sqlite3 connection reads: the reference our reader must match. */
export function pyRead(file: string, sql: string): unknown[][] {
  const code = 'import json, sqlite3, sys\ncon = sqlite3.connect(sys.argv[1])\nprint(json.dumps(con.execute(sys.argv[2]).fetchall()))\ncon.close()';
  const res = spawnSync('python3', ['-c', code, file, sql], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`python3 reader failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as unknown[][];
}
