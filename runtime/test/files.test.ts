// The filesystem service and /files through the official `e2b` SDK (and plain fetch where the
// SDK hides the HTTP), served by the agent inside a real container.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { FileNotFoundError, FilesystemEvent, FilesystemEventType, FileType, InvalidArgumentError, NotEnoughSpaceError, Sandbox } from 'e2b';
import { directFiles } from '../../src/providers/files/envd-file-http';
import { RuntimeProcess } from './helpers/runtime-process';
import { sleep } from './helpers/wait';

const MB = 1024 * 1024;

/** A stream of `total` pseudo-random bytes in 1 MiB chunks; `digest()` is their sha256 once read. */
function generatedStream(total: number): { stream: ReadableStream<Uint8Array>; digest: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  let seed = 12345;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const chunk = Buffer.allocUnsafe(Math.min(MB, total - sent));
      for (let i = 0; i < chunk.length; i += 4) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        chunk.writeUInt32LE(seed, i);
      }
      hash.update(chunk);
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('files and filesystem', () => {
  let runtime: RuntimeProcess;
  let sandbox: Sandbox;
  let accessToken: string;
  /** Routing headers only: what a holder of a signed URL sends. */
  let sandboxHeaders: Record<string, string>;
  /** Routing headers plus the envd access token. */
  let envdHeaders: Record<string, string>;

  before(async () => {
    runtime = await RuntimeProcess.start();
    sandbox = await Sandbox.create(runtime.sdk);
    // The SDK keeps the token to itself (protected); it signs URLs and authenticates envd calls with it.
    accessToken = (sandbox as unknown as { envdAccessToken: string }).envdAccessToken;
    assert.ok(accessToken, 'sandboxes are secure by default');
    sandboxHeaders = { 'E2b-Sandbox-Id': sandbox.sandboxId, 'E2b-Sandbox-Port': '49983' };
    envdHeaders = { ...sandboxHeaders, 'X-Access-Token': accessToken };
  });
  after(async () => {
    await runtime?.dispose();
  });

  /** The agent's RSS and peak RSS in kB; `resetPeak` first lowers the peak to the current RSS. */
  async function agentMemory(resetPeak = false): Promise<{ rss: number; peak: number }> {
    const proc = "/proc/$(pgrep -xf '/opt/e2b/node /opt/e2b/agent.js')";
    const out = await sandbox.commands.run(`${resetPeak ? `echo 5 > ${proc}/clear_refs; ` : ''}grep -E 'VmRSS|VmHWM' ${proc}/status`, {
      user: 'root',
    });
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(out.stdout)?.[1]);
    return { rss: kb('VmRSS'), peak: kb('VmHWM') };
  }

  it('writes and reads text, bytes and streams, one file or several at once', async () => {
    const info = await sandbox.files.write('/home/user/hello.txt', 'hello world\n');
    assert.deepEqual(info, { path: '/home/user/hello.txt', name: 'hello.txt', type: 'file', metadata: undefined });
    assert.equal(await sandbox.files.read('/home/user/hello.txt'), 'hello world\n');
    assert.equal((await sandbox.files.getInfo('/home/user/hello.txt')).permissions, '-rw-r--r--');
    // Relative paths and ~ resolve against the user's home.
    assert.equal(await sandbox.files.read('hello.txt'), 'hello world\n');
    assert.equal(await sandbox.files.read('~/hello.txt'), 'hello world\n');

    const bytes = new Uint8Array([0, 1, 2, 250, 255, 10, 13]);
    await sandbox.files.write('bin/data.bin', bytes.buffer);
    assert.deepEqual(await sandbox.files.read('/home/user/bin/data.bin', { format: 'bytes' }), bytes);
    assert.equal(await sandbox.files.read('/home/user/bin/data.bin', { format: 'text', user: 'root' }).then((t) => t.length), 7);

    await sandbox.files.write('empty.txt', '');
    assert.equal(await sandbox.files.read('empty.txt'), '');

    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('first '));
        controller.enqueue(new TextEncoder().encode('second'));
        controller.close();
      },
    });
    await sandbox.files.write('streamed.txt', streamed);
    const readBack = await sandbox.files.read('streamed.txt', { format: 'stream' });
    assert.equal(await new Response(readBack).text(), 'first second');
    const blob = await sandbox.files.read('streamed.txt', { format: 'blob' });
    assert.equal(await blob.text(), 'first second');

    const many = await sandbox.files.write([
      { path: '/home/user/multi/a.txt', data: 'A' },
      { path: '/home/user/multi/deep/b.txt', data: new Blob(['B']) },
      { path: 'multi/c.txt', data: 'C' },
    ]);
    assert.deepEqual(
      many.map((f) => f.path),
      ['/home/user/multi/a.txt', '/home/user/multi/deep/b.txt', '/home/user/multi/c.txt'],
    );
    assert.equal(await sandbox.files.read('/home/user/multi/deep/b.txt'), 'B');
    // gzip upload (octet-stream with Content-Encoding) and gzip download.
    await sandbox.files.write('gz.txt', 'zipped '.repeat(1000), { gzip: true });
    assert.equal(await sandbox.files.read('gz.txt', { gzip: true }), 'zipped '.repeat(1000));
    const check = await sandbox.commands.run('cat /home/user/multi/a.txt /home/user/multi/c.txt; wc -c < /home/user/gz.txt');
    assert.equal(check.stdout, 'AC7000\n');
  });

  it('overwrites a file whole: shorter or empty content leaves nothing of the old; a FIFO is written, not cut', async () => {
    // The agent writes over the old content and cuts the file to length (no O_TRUNC, which makes
    // ext4 flush on close): nothing of the old tail may survive, and the inode stays the same.
    await sandbox.files.write('over.txt', 'x'.repeat(3 * MB));
    const inode = (await sandbox.commands.run('stat -c %i over.txt')).stdout;
    await sandbox.files.write('over.txt', 'short');
    assert.equal(await sandbox.files.read('over.txt'), 'short');
    await directFiles(sandbox)!.write('/home/user/over.txt', new TextEncoder().encode('direct'));
    assert.equal(await sandbox.files.read('over.txt'), 'direct');
    assert.equal((await sandbox.commands.run('stat -c %i over.txt')).stdout, inode);
    await sandbox.files.write('over.txt', '');
    assert.equal((await sandbox.files.getInfo('over.txt')).size, 0);
    // A FIFO cannot be truncated: its reader gets the upload, and the upload succeeds.
    await sandbox.commands.run('mkfifo /home/user/pipe');
    const reader = await sandbox.commands.run('cat /home/user/pipe', { background: true });
    await sandbox.files.write('pipe', 'through the pipe');
    const done = await reader.wait();
    assert.equal(done.stdout, 'through the pipe');
  });

  it('lists with depth, tells existence, reports entry details', async () => {
    await sandbox.commands.run(
      'mkdir -p /home/user/tree/sub/subsub && echo 1 > /home/user/tree/one && echo 22 > /home/user/tree/sub/two && touch /home/user/tree/sub/subsub/three && chmod 640 /home/user/tree/one && ln -s /home/user/tree/sub /home/user/tree/link',
    );
    const top = await sandbox.files.list('/home/user/tree');
    assert.deepEqual(
      top.map((e) => [e.name, e.type]),
      [
        ['link', FileType.DIR],
        ['one', FileType.FILE],
        ['sub', FileType.DIR],
      ],
    );
    const deep = await sandbox.files.list('/home/user/tree', { depth: 3 });
    assert.deepEqual(
      deep.map((e) => e.path),
      [
        '/home/user/tree/link',
        '/home/user/tree/one',
        '/home/user/tree/sub',
        '/home/user/tree/sub/subsub',
        '/home/user/tree/sub/subsub/three',
        '/home/user/tree/sub/two',
      ],
    );
    // Listing through a symlink keeps the requested prefix.
    const viaLink = await sandbox.files.list('/home/user/tree/link');
    assert.deepEqual(
      viaLink.map((e) => e.path),
      ['/home/user/tree/link/subsub', '/home/user/tree/link/two'],
    );
    await assert.rejects(sandbox.files.list('/home/user/tree/one'), InvalidArgumentError);
    await assert.rejects(sandbox.files.list('/home/user/nope'), FileNotFoundError);

    assert.equal(await sandbox.files.exists('/home/user/tree/one'), true);
    assert.equal(await sandbox.files.exists('/home/user/tree/none'), false);
    assert.equal(await sandbox.files.exists('/home/user/tree/one/below'), false);

    const one = await sandbox.files.getInfo('/home/user/tree/one');
    assert.equal(one.name, 'one');
    assert.equal(one.type, FileType.FILE);
    assert.equal(one.size, 2);
    assert.equal(one.mode, 0o640);
    assert.equal(one.permissions, '-rw-r-----');
    assert.equal(one.owner, 'user');
    assert.equal(one.group, 'user');
    assert.ok(
      one.modifiedTime instanceof Date && Math.abs(one.modifiedTime.getTime() - Date.now()) < 60_000,
      `modifiedTime ${one.modifiedTime}`,
    );
    assert.equal(one.symlinkTarget, undefined);

    const dir = await sandbox.files.getInfo('/home/user/tree/sub');
    assert.equal(dir.type, FileType.DIR);
    assert.equal(dir.permissions, 'drwxr-xr-x');
    assert.equal(dir.mode, 0o755);

    const link = await sandbox.files.getInfo('/home/user/tree/link');
    assert.equal(link.type, FileType.DIR);
    assert.equal(link.symlinkTarget, '/home/user/tree/sub');
    assert.equal(link.mode, 0o755);

    const tmp = await sandbox.files.getInfo('/tmp', { user: 'root' });
    assert.equal(tmp.permissions, 'dtrwxrwxrwx');
    assert.equal(tmp.owner, 'root');
    await assert.rejects(sandbox.files.getInfo('/home/user/tree/none'), FileNotFoundError);
  });

  it('makes directories, renames and removes', async () => {
    assert.equal(await sandbox.files.makeDir('/home/user/made/a/b'), true);
    assert.equal(await sandbox.files.makeDir('/home/user/made/a/b'), false);
    assert.equal((await sandbox.files.getInfo('/home/user/made/a')).owner, 'user');
    await sandbox.files.write('/home/user/made/file', 'x');
    await assert.rejects(sandbox.files.makeDir('/home/user/made/file'), InvalidArgumentError);

    const moved = await sandbox.files.rename('/home/user/made/file', '/home/user/elsewhere/new/name.txt');
    assert.equal(moved.path, '/home/user/elsewhere/new/name.txt');
    assert.equal(moved.name, 'name.txt');
    assert.equal(moved.type, FileType.FILE);
    assert.equal(await sandbox.files.exists('/home/user/made/file'), false);
    assert.equal(await sandbox.files.read('/home/user/elsewhere/new/name.txt'), 'x');
    await assert.rejects(sandbox.files.rename('/home/user/made/missing', '/home/user/x'), FileNotFoundError);

    await sandbox.files.remove('/home/user/made');
    assert.equal(await sandbox.files.exists('/home/user/made'), false);
    await sandbox.files.remove('/home/user/made'); // missing: no error
    await assert.rejects(sandbox.files.read('/home/user/made/a'), FileNotFoundError);
    await assert.rejects(sandbox.files.read('/home/user/elsewhere'), InvalidArgumentError);
    await assert.rejects(sandbox.files.read('/home/user/bad\0name'), InvalidArgumentError);
    await assert.rejects(sandbox.files.getInfo('/home/user/bad\0name'), InvalidArgumentError);
  });

  it("makes what the user writes theirs, and what root writes root's", async () => {
    await sandbox.files.write('/home/user/owned/by/user.txt', 'u');
    await sandbox.files.write('/tmp/owned/by/root.txt', 'r', { user: 'root' });
    await sandbox.files.write('/tmp/shared-by-user.txt', 'u2');
    const owners = await sandbox.commands.run(
      'stat -c "%U:%G %n" /home/user/owned /home/user/owned/by /home/user/owned/by/user.txt /tmp/owned /tmp/owned/by /tmp/owned/by/root.txt /tmp/shared-by-user.txt',
    );
    assert.equal(
      owners.stdout,
      [
        'user:user /home/user/owned',
        'user:user /home/user/owned/by',
        'user:user /home/user/owned/by/user.txt',
        'root:root /tmp/owned',
        'root:root /tmp/owned/by',
        'root:root /tmp/owned/by/root.txt',
        'user:user /tmp/shared-by-user.txt',
        '',
      ].join('\n'),
    );
    // Overwriting hands an existing root file to the writer.
    await sandbox.files.write('/tmp/owned/by/root.txt', 'now mine');
    assert.equal((await sandbox.files.getInfo('/tmp/owned/by/root.txt')).owner, 'user');
    assert.equal(await sandbox.files.read('/tmp/owned/by/root.txt'), 'now mine');
  });

  it('keeps metadata as user.e2b.* extended attributes', async () => {
    const written = await sandbox.files.write('/home/user/meta.txt', 'm', { metadata: { Color: 'red', owner: 'team-a' } });
    assert.deepEqual(written.metadata, { color: 'red', owner: 'team-a' });
    assert.deepEqual((await sandbox.files.getInfo('/home/user/meta.txt')).metadata, { color: 'red', owner: 'team-a' });
    const listed = await sandbox.files.list('/home/user');
    assert.deepEqual(listed.find((e) => e.name === 'meta.txt')?.metadata, { color: 'red', owner: 'team-a' });
    await sandbox.files.write('/home/user/meta.txt', 'again');
    assert.equal((await sandbox.files.getInfo('/home/user/meta.txt')).metadata, undefined, 'an upload replaces the whole set');
  });

  it('streams a 200 MB upload and download without holding it in memory', async (t) => {
    /** Uploads and downloads `total` bytes; returns how far the agent's peak RSS rose, in MB. */
    const transfer = async (total: number): Promise<number> => {
      const before = await agentMemory(true);
      const source = generatedStream(total);
      await sandbox.files.write('/home/user/big.bin', source.stream);
      const expected = source.digest();
      const sum = await sandbox.commands.run('sha256sum /home/user/big.bin | cut -d" " -f1; stat -c %s /home/user/big.bin');
      assert.equal(sum.stdout, `${expected}\n${total}\n`);

      const download = await sandbox.files.read('/home/user/big.bin', { format: 'stream' });
      const hash = createHash('sha256');
      let size = 0;
      for await (const chunk of download as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        size += chunk.length;
      }
      assert.equal(size, total);
      assert.equal(hash.digest('hex'), expected);
      await sandbox.files.remove('/home/user/big.bin');
      return ((await agentMemory()).peak - before.rss) / 1024;
    };
    // Streaming costs a few buffers plus garbage not yet collected, whatever the size (and the
    // machine's speed); buffering 200 MB would cost 150 MB more than buffering 50 MB.
    const small = await transfer(50 * MB);
    const big = await transfer(200 * MB);
    t.diagnostic(`agent peak RSS grew by ${small.toFixed(1)} MB for 50 MB, ${big.toFixed(1)} MB for 200 MB`);
    assert.ok(big - small < 75, `the agent's peak RSS grew by ${small.toFixed(1)} MB for 50 MB but ${big.toFixed(1)} MB for 200 MB`);
  });

  it("answers the e2b: provider's direct /files requests as the SDK's: same bytes, owner, errors", async () => {
    const direct = directFiles(sandbox);
    assert.ok(direct, 'the SDK still has the fields the direct requests copy (else the provider falls back to it)');
    const bytes = Buffer.allocUnsafe(3 * MB + 17);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + (i >> 10)) & 0xff;
    await direct.write('/home/user/direct/nested.bin', bytes);
    assert.ok(Buffer.from(await sandbox.files.read('/home/user/direct/nested.bin', { format: 'bytes' })).equals(bytes));
    assert.ok(Buffer.from(await direct.read('/home/user/direct/nested.bin')).equals(bytes));
    assert.equal((await sandbox.files.getInfo('/home/user/direct/nested.bin')).owner, 'user');
    await direct.write('/home/user/direct/empty', new Uint8Array(0));
    assert.equal((await direct.read('/home/user/direct/empty')).byteLength, 0);

    const failure = (call: Promise<unknown>) =>
      call.then(
        () => assert.fail('expected a failure'),
        (err: Error) => ({ name: err.name, message: err.message }),
      );
    for (const path of ['/home/user/direct/missing', '/home/user/direct', '']) {
      assert.deepEqual(await failure(direct.read(path)), await failure(sandbox.files.read(path, { format: 'bytes' })), path);
    }
    for (const path of ['/home/user/direct/nested.bin/below', '/home/user/direct', '']) {
      const viaSdk = failure(sandbox.files.write(path, new Blob([bytes.subarray(0, 10)]), { useOctetStream: true }));
      assert.deepEqual(await failure(direct.write(path, bytes.subarray(0, 10))), await viaSdk, path);
    }
  });

  it('serves ranges, conditional requests and gzip on GET /files', async () => {
    const content = 'abcdefghijklmnopqrstuvwxyz'.repeat(40);
    await sandbox.files.write('/home/user/range.txt', content);
    const url = `${runtime.url}/files?path=${encodeURIComponent('/home/user/range.txt')}`;

    // fetch asks for gzip by default; identity is what ServeContent's headers belong to.
    const whole = await fetch(url, { headers: { ...envdHeaders, 'Accept-Encoding': 'identity' } });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(whole.headers.get('content-disposition'), 'inline; filename=range.txt');
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.equal(whole.headers.get('content-length'), String(content.length));
    assert.equal(await whole.text(), content);
    const etag = whole.headers.get('etag')!;
    const lastModified = whole.headers.get('last-modified')!;
    assert.ok(etag && lastModified);

    const part = await fetch(url, { headers: { ...envdHeaders, Range: 'bytes=2-5' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 2-5/${content.length}`);
    assert.equal(await part.text(), 'cdef');
    const suffix = await fetch(url, { headers: { ...envdHeaders, Range: 'bytes=-3' } });
    assert.equal(await suffix.text(), 'xyz');
    const outside = await fetch(url, { headers: { ...envdHeaders, Range: `bytes=${content.length}-` } });
    assert.equal(outside.status, 416);
    assert.equal(outside.headers.get('content-range'), `bytes */${content.length}`);
    await outside.arrayBuffer();

    const notModified = await fetch(url, { headers: { ...envdHeaders, 'If-None-Match': etag } });
    assert.equal(notModified.status, 304);
    const notModifiedSince = await fetch(url, { headers: { ...envdHeaders, 'If-Modified-Since': lastModified } });
    assert.equal(notModifiedSince.status, 304);
    const changed = await fetch(url, { headers: { ...envdHeaders, 'If-None-Match': '"something-else"' } });
    assert.equal(changed.status, 200);
    await changed.arrayBuffer();

    // fetch decodes gzip itself: the header says what travelled.
    const zipped = await fetch(url, { headers: { ...envdHeaders, 'Accept-Encoding': 'gzip' } });
    assert.equal(zipped.status, 200);
    assert.equal(zipped.headers.get('content-encoding'), 'gzip');
    assert.equal(zipped.headers.get('content-length'), null);
    assert.equal(await zipped.text(), content);

    const dir = await fetch(`${runtime.url}/files?path=/home/user`, { headers: envdHeaders });
    assert.equal(dir.status, 400);
    await dir.arrayBuffer();
    const missing = await fetch(`${runtime.url}/files?path=/home/user/missing`, { headers: envdHeaders });
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
    const noToken = await fetch(url, { headers: sandboxHeaders });
    assert.equal(noToken.status, 401);
    await noToken.arrayBuffer();
    const badUser = await fetch(`${url}&username=nobody-here`, { headers: envdHeaders });
    assert.equal(badUser.status, 401);
    await badUser.arrayBuffer();
  });

  it('accepts signed URLs without the token, and refuses forged, misused or expired ones', async () => {
    const uploadUrl = await sandbox.uploadUrl('/home/user/signed/up.txt', { useSignatureExpiration: 120 });
    const form = new FormData();
    form.append('file', new Blob(['signed upload']), '/home/user/signed/up.txt');
    const uploaded = await fetch(uploadUrl, { method: 'POST', body: form, headers: sandboxHeaders });
    assert.equal(uploaded.status, 200, await uploaded.clone().text());
    assert.deepEqual(await uploaded.json(), [{ path: '/home/user/signed/up.txt', name: 'up.txt', type: 'file' }]);

    const downloadUrl = await sandbox.downloadUrl('/home/user/signed/up.txt', { useSignatureExpiration: 120 });
    const downloaded = await fetch(downloadUrl, { headers: sandboxHeaders });
    assert.equal(downloaded.status, 200);
    assert.equal(await downloaded.text(), 'signed upload');
    // An upload URL without a path: the multipart filename says where.
    const anyPath = new FormData();
    anyPath.append('file', new Blob(['no path in the url']), '/home/user/signed/free.txt');
    const free = await fetch(await sandbox.uploadUrl(), { method: 'POST', body: anyPath, headers: sandboxHeaders });
    assert.equal(free.status, 200);
    await free.arrayBuffer();
    assert.equal(await sandbox.files.read('/home/user/signed/free.txt'), 'no path in the url');
    // Without expiration, and for another user.
    const asRoot = await fetch(await sandbox.downloadUrl('/home/user/signed/up.txt', { user: 'root' }), { headers: sandboxHeaders });
    assert.equal(await asRoot.text(), 'signed upload');

    const forged = new URL(downloadUrl);
    forged.searchParams.set('signature', 'v1_' + 'A'.repeat(43));
    const otherPath = new URL(downloadUrl);
    otherPath.searchParams.set('path', '/etc/shadow');
    const wrongOp = new URL(downloadUrl); // a read signature used for a write
    const expired = await sandbox.downloadUrl('/home/user/signed/up.txt', { useSignatureExpiration: -10 });
    const stretched = new URL(downloadUrl);
    stretched.searchParams.set('signature_expiration', String(Math.floor(Date.now() / 1000) + 100_000));
    for (const [name, request] of [
      ['forged', fetch(forged, { headers: sandboxHeaders })],
      ['other path', fetch(otherPath, { headers: sandboxHeaders })],
      ['wrong operation', fetch(wrongOp, { method: 'POST', body: form, headers: sandboxHeaders })],
      ['expired', fetch(expired, { headers: sandboxHeaders })],
      ['stretched expiration', fetch(stretched, { headers: sandboxHeaders })],
      ['wrong token', fetch(downloadUrl, { headers: { ...sandboxHeaders, 'X-Access-Token': 'nope' } })],
    ] as const) {
      const res = await request;
      assert.equal(res.status, 401, `${name} signature`);
      await res.arrayBuffer();
    }
    assert.equal(await sandbox.files.read('/home/user/signed/up.txt'), 'signed upload', 'the refused upload changed nothing');
  });

  it('needs no token or signature on an insecure sandbox', async () => {
    const open = await Sandbox.connect(await runtime.createInsecureSandbox(), runtime.sdk);
    try {
      await open.files.write('/home/user/open.txt', 'no auth here');
      const url = await open.downloadUrl('/home/user/open.txt');
      assert.ok(!url.includes('signature='), url);
      const res = await fetch(url, { headers: { 'E2b-Sandbox-Id': open.sandboxId, 'E2b-Sandbox-Port': '49983' } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'no auth here');
    } finally {
      await open.kill();
    }
  });

  it('resolves symlinks inside the sandbox only', async () => {
    await sandbox.commands.run('ln -s /etc /home/user/etc-link');
    const hostname = await sandbox.files.read('/home/user/etc-link/hostname');
    assert.equal(hostname, 'e2b.local\n');
    let hostHostname = '';
    try {
      hostHostname = readFileSync('/etc/hostname', 'utf8');
    } catch {
      /* no file on the host */
    }
    assert.notEqual(hostname, hostHostname);
    const info = await sandbox.files.getInfo('/home/user/etc-link');
    assert.equal(info.symlinkTarget, '/etc');
    assert.equal(info.type, FileType.DIR);
    const listed = await sandbox.files.list('/home/user/etc-link');
    assert.ok(listed.some((e) => e.path === '/home/user/etc-link/hostname'));
    // Writing through a link lands in the sandbox too.
    await sandbox.commands.run('ln -s /tmp /home/user/tmp-link');
    await sandbox.files.write('/home/user/tmp-link/through-link.txt', 'via link');
    assert.equal((await sandbox.commands.run('cat /tmp/through-link.txt')).stdout, 'via link');
  });

  it('answers 507 when the disk is full', async () => {
    // /dev/shm is a 64 MB tmpfs in every sandbox.
    await assert.rejects(sandbox.files.write('/dev/shm/x', generatedStream(100 * MB).stream), NotEnoughSpaceError);
    await assert.rejects(sandbox.files.write('/dev/shm/y', new Uint8Array(100 * MB).buffer), NotEnoughSpaceError);
    await sandbox.commands.run('rm -f /dev/shm/x /dev/shm/y', { user: 'root' });
    // The agent is fine afterwards.
    await sandbox.files.write('/dev/shm/small', 'ok');
    assert.equal(await sandbox.files.read('/dev/shm/small'), 'ok');
  });

  it('watches a directory: created files arrive with their entry; recursion only when asked', async () => {
    await sandbox.files.makeDir('/home/user/watched');
    const events: FilesystemEvent[] = [];
    const handle = await sandbox.files.watchDir(
      '/home/user/watched',
      (e) => {
        events.push(e);
      },
      { includeEntry: true },
    );
    await sandbox.commands.run(
      'echo hi > /home/user/watched/a.txt && mkdir -p /home/user/watched/sub && echo x > /home/user/watched/sub/nested.txt && rm /home/user/watched/a.txt',
    );
    await waitFor(() => events.some((e) => e.type === FilesystemEventType.REMOVE && e.name === 'a.txt'), 'the remove event');
    await handle.stop();
    const created = events.find((e) => e.type === FilesystemEventType.CREATE && e.name === 'a.txt');
    assert.ok(created, JSON.stringify(events));
    assert.ok(events.some((e) => e.type === FilesystemEventType.WRITE && e.name === 'a.txt'));
    assert.ok(events.some((e) => e.type === FilesystemEventType.CREATE && e.name === 'sub'));
    assert.ok(!events.some((e) => e.name.startsWith('sub/')), 'a non-recursive watch sees no nested entries');
    if (created.entry) {
      // Best effort (the file may be gone by the time the agent looks).
      assert.equal(created.entry.type, FileType.FILE);
      assert.equal(created.entry.path, '/home/user/watched/a.txt');
    }
    assert.equal(events.find((e) => e.type === FilesystemEventType.REMOVE)?.entry, undefined);

    const deep: FilesystemEvent[] = [];
    const recursive = await sandbox.files.watchDir(
      '/home/user/watched',
      (e) => {
        deep.push(e);
      },
      { recursive: true, includeEntry: true },
    );
    await sandbox.commands.run(
      'mkdir -p /home/user/watched/new/inner && echo deep > /home/user/watched/new/inner/file.txt && echo more >> /home/user/watched/sub/nested.txt && chmod 600 /home/user/watched/sub/nested.txt',
    );
    await waitFor(() => deep.some((e) => e.type === FilesystemEventType.CHMOD && e.name === 'sub/nested.txt'), 'the chmod event');
    await waitFor(
      () => deep.some((e) => e.name === 'new/inner/file.txt' && e.type === FilesystemEventType.CREATE),
      'the file in the new directory',
    );
    await recursive.stop();
    assert.ok(deep.some((e) => e.type === FilesystemEventType.CREATE && e.name === 'new'));
    assert.ok(deep.some((e) => e.type === FilesystemEventType.CREATE && e.name === 'new/inner'));
    assert.ok(deep.some((e) => e.type === FilesystemEventType.WRITE && e.name === 'sub/nested.txt'));
    const fileEvent = deep.find((e) => e.name === 'new/inner/file.txt' && e.entry);
    assert.equal(fileEvent?.entry?.path, '/home/user/watched/new/inner/file.txt');

    await assert.rejects(
      sandbox.files.watchDir('/home/user/not-there', () => {}),
      FileNotFoundError,
    );
    await assert.rejects(
      sandbox.files.watchDir('/home/user/hello.txt', () => {}),
      InvalidArgumentError,
    );
  });

  it('ends a watch at its timeout, with keepalives while idle', async () => {
    let exitError = null as Error | undefined | null;
    await sandbox.files.watchDir('/home/user', () => {}, {
      timeoutMs: 1500,
      onExit: (err) => {
        exitError = err;
      },
    });
    await waitFor(() => exitError !== null, 'the watch to end');
    assert.ok(exitError instanceof Error, 'a timed-out watch ends with an error');

    // On the wire: {"start":{}} first, {"keepalive":{}} per idle interval, then the end frame.
    const request = Buffer.from(JSON.stringify({ path: '/home/user' }));
    const envelope = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), request]);
    envelope.writeUInt32BE(request.length, 1);
    const res = await fetch(`${runtime.url}/filesystem.Filesystem/WatchDir`, {
      method: 'POST',
      headers: {
        ...envdHeaders,
        'Content-Type': 'application/connect+json',
        'Connect-Protocol-Version': '1',
        'Connect-Timeout-Ms': '2600',
        'Keepalive-Ping-Interval': '1',
      },
      body: envelope,
    });
    assert.equal(res.status, 200);
    const body = Buffer.from(await res.arrayBuffer());
    const frames: { flags: number; message: unknown }[] = [];
    for (let at = 0; at < body.length;) {
      const length = body.readUInt32BE(at + 1);
      frames.push({ flags: body[at], message: JSON.parse(body.subarray(at + 5, at + 5 + length).toString()) });
      at += 5 + length;
    }
    assert.deepEqual(frames[0], { flags: 0, message: { start: {} } });
    // One a second for 2.6 s: two, or one if a busy machine delays the timers.
    const keepalives = frames.slice(1, -1).map((f) => f.message);
    assert.ok(keepalives.length === 1 || keepalives.length === 2, JSON.stringify(keepalives));
    assert.deepEqual(keepalives, Array(keepalives.length).fill({ keepalive: {} }));
    const last = frames[frames.length - 1];
    assert.equal(last.flags, 2);
    assert.equal((last.message as { error: { code: string } }).error.code, 'deadline_exceeded');
  });

  it('serves the polling watcher RPCs', async () => {
    const rpc = async (method: string, body: object): Promise<{ status: number; json: Record<string, unknown> }> => {
      const res = await fetch(`${runtime.url}/filesystem.Filesystem/${method}`, {
        method: 'POST',
        headers: { ...envdHeaders, 'Content-Type': 'application/json', 'Connect-Protocol-Version': '1' },
        body: JSON.stringify(body),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    await sandbox.files.makeDir('/home/user/polled');
    const created = await rpc('CreateWatcher', { path: '/home/user/polled', recursive: true });
    assert.equal(created.status, 200);
    const watcherId = created.json.watcherId as string;
    assert.match(watcherId, /^w/);
    await sandbox.commands.run('mkdir /home/user/polled/d && touch /home/user/polled/d/f');
    let events: { name: string; type: string }[] = [];
    for (let i = 0; i < 50 && !events.some((e) => e.name === 'd/f'); i++) {
      const polled = await rpc('GetWatcherEvents', { watcherId });
      assert.equal(polled.status, 200);
      events = events.concat((polled.json.events ?? []) as { name: string; type: string }[]);
      await sleep(100);
    }
    assert.ok(
      events.some((e) => e.name === 'd' && e.type === 'EVENT_TYPE_CREATE'),
      JSON.stringify(events),
    );
    assert.ok(
      events.some((e) => e.name === 'd/f' && e.type === 'EVENT_TYPE_CREATE'),
      JSON.stringify(events),
    );
    const drained = await rpc('GetWatcherEvents', { watcherId });
    assert.deepEqual(drained.json.events ?? [], [], 'events are handed out once');
    assert.equal((await rpc('RemoveWatcher', { watcherId })).status, 200);
    const gone = await rpc('GetWatcherEvents', { watcherId });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.code, 'not_found');
  });
});
