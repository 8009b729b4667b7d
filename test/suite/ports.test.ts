// Open Port URL inside a real extension host: the quick pick offers the ports a server listens on
// in the sandbox (found through the SDK), and says what to do when nothing listens. The pick is
// answered the way a keyboard user does (quick open's accept / close commands).
import * as assert from 'node:assert/strict';
import { get } from 'node:http';
import * as vscode from 'vscode';
import { Sandbox } from 'e2b';
import type { PortOffer } from '../../src/commands/port-commands';
import type { E2BExtensionApi } from '../../src/extension';
import { extensionApi, pokeUntil, sdkOptions, waitFor } from './helpers';

/** Runs the command and answers the pick it shows with `answer` (repeated until the command ends). */
async function answerPortPick(
  api: E2BExtensionApi,
  sandboxId: string,
  answer: string,
): Promise<{ offer: PortOffer; result: string | undefined }> {
  let offer: PortOffer | undefined;
  const listener = api.ports.onDidOffer((o) => {
    if (o.sandboxId === sandboxId) offer = o;
  });
  let settled: { result: string | undefined } | undefined;
  const running = Promise.resolve(vscode.commands.executeCommand<string | undefined>('e2b.openPortUrl', sandboxId)).then((result) => {
    settled = { result };
  });
  try {
    await waitFor('the port pick', () => offer);
    // The pick may not be on screen yet when the offer is announced: answer until the command ends.
    await pokeUntil(
      'the command to take the answer',
      () => vscode.commands.executeCommand(answer),
      () => settled,
      30_000,
      500,
    );
    await running;
    return { offer: offer!, result: settled!.result };
  } finally {
    listener.dispose();
  }
}

/** GET / from the runtime at `origin` with the Host header `host` (fetch does not let a caller set it). */
function getWithHost(origin: URL, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ hostname: origin.hostname, port: origin.port, path: '/', headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('Open Port URL', () => {
  let api: E2BExtensionApi;
  const created: Sandbox[] = [];

  before(async () => {
    api = await extensionApi();
  });
  after(async () => {
    await Promise.all(created.map((s) => s.kill().catch(() => false)));
  });

  async function newSandbox(): Promise<Sandbox> {
    const sandbox = await Sandbox.create({ ...(await sdkOptions()), metadata: { suite: 'ports' } });
    created.push(sandbox);
    return sandbox;
  }

  it('offers the port a server listens on, with its process, and opens its URL', async () => {
    const sandbox = await newSandbox();
    await sandbox.commands.run('mkdir -p /tmp/site && echo served-on-8123 > /tmp/site/index.html');
    await sandbox.commands.run('cd /tmp/site && python3 -m http.server 8123', { background: true });
    await sandbox.commands.run('for i in $(seq 150); do (echo > /dev/tcp/127.0.0.1/8123) 2>/dev/null && exit 0; sleep 0.1; done; exit 1');

    const { offer, result } = await answerPortPick(api, sandbox.sandboxId, 'workbench.action.acceptSelectedQuickOpenItem');
    // envd's own port (49983) listens too, and is not offered.
    assert.deepEqual(offer.ports, [{ port: 8123, process: 'python3' }]);
    assert.match(offer.message, /servers listening in the sandbox/);
    const opts = await sdkOptions();
    const apiUrl = new URL(opts.apiUrl);
    assert.equal(result, `http://8123-${sandbox.sandboxId}.localhost:${apiUrl.port}/`);
    // What that tab shows: the server's page (Node does not resolve *.localhost: send the host name the browser would).
    assert.deepEqual(await getWithHost(apiUrl, new URL(result!).host), { status: 200, body: 'served-on-8123\n' });
  });

  it('says that nothing listens and how to start a server, offering a terminal and another port', async () => {
    const sandbox = await newSandbox();
    const { offer, result } = await answerPortPick(api, sandbox.sandboxId, 'workbench.action.closeQuickOpen');
    assert.deepEqual(offer.ports, []);
    assert.equal(
      offer.message,
      `Nothing is listening in ${sandbox.sandboxId} yet. Start a server listening on 0.0.0.0 (e.g. python3 -m http.server 8000).`,
    );
    assert.equal(result, undefined, 'closing the pick opens nothing');

    // The pick's first entry opens a terminal in that sandbox, to start the server in.
    const before = vscode.window.terminals.length;
    const chosen = await answerPortPick(api, sandbox.sandboxId, 'workbench.action.acceptSelectedQuickOpenItem');
    assert.equal(chosen.result, undefined);
    const terminal = await waitFor(
      'a terminal in the sandbox',
      () => vscode.window.terminals.length > before && vscode.window.terminals.find((t) => t.name.includes(sandbox.sandboxId.slice(0, 8))),
    );
    terminal.dispose();
  });
});
