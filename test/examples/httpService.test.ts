import test from 'ava';
import { get } from 'node:http';
import { expectedEmbedding } from '../../src/cli/demoOps.js';
import { pythonOf, runTs, until } from './childProcess.js';

function request(url: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8').on('data', (c: string) => (data += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
    }).on('error', reject);
  });
}

test.serial('examples/httpService: answers /embed from the pool; on SIGTERM it stops accepting, finishes the request in flight, exits 0 and leaves no Python', async (t) => {
  const service = runTs(['examples/httpService.ts'], { PORT: '0' });
  const pid = service.proc.pid!;
  try {
    const url = (await service.line(/^listening on /)).slice('listening on '.length);
    t.deepEqual(await request(`${url}/embed?text=hello`), { status: 200, body: { vector: expectedEmbedding('hello') } });
    const workers = pythonOf(pid);
    t.is(workers.length, 2, 'one Python process per worker');

    // A slow request, in flight in Python (the pool reports its worker busy) when SIGTERM comes.
    const slow = request(`${url}/embed?text=slow&delay_ms=1500`);
    const deadline = Date.now() + 10_000;
    while (((await request(`${url}/status`)).body as { busy: number }).busy !== 1) {
      if (Date.now() > deadline) throw new Error('the slow request never reached a worker');
    }
    service.proc.kill('SIGTERM');
    await service.line(/^stopping:/);
    const refused = await request(`${url}/embed?text=late`).then(
      () => 'answered',
      (err: NodeJS.ErrnoException) => err.code,
    );
    t.is(refused, 'ECONNREFUSED', 'no new connections once stopping');

    t.deepEqual(await slow, { status: 200, body: { vector: expectedEmbedding('slow') } }, 'the request in flight was answered');
    t.deepEqual(await service.exited, { code: 0, signal: null });
    t.true(service.stdout.includes('stopped'));
    await until(() => pythonOf(pid).length === 0, 5000, 'every Python process of the service gone');
    t.deepEqual(pythonOf(pid), []);
  } finally {
    if (service.proc.exitCode === null) service.proc.kill('SIGKILL');
  }
});
