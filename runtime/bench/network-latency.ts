// Benchmark: what a sandbox's own network costs, against a test netns uplink (test hosts in
// 198.18.0.0/15, no packet leaves the machine): cold create → first command with and without an
// uplink (the veth, addresses, nftables rules, DNS and proxy listeners), and an HTTP request from
// inside the sandbox to the test host through NAT and through the domain proxy. Prints one JSON object.
import { ALL_TRAFFIC, Sandbox } from 'e2b';
import { RuntimeProcess } from '../test/helpers/runtime-process';
import { TEST_HOSTS, TEST_NAMES, TestNetns } from '../test/helpers/test-netns';
import { report, summary } from './stats';

const CREATES = 15;
const REQUESTS = 30;

async function coldCreates(runtime: RuntimeProcess): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < CREATES; i++) {
    const started = performance.now();
    const sandbox = await Sandbox.create({ ...runtime.sdk });
    await sandbox.commands.run('true');
    times.push(performance.now() - started);
    await sandbox.kill();
  }
  return times;
}

/** Each request's wall time as curl measures it inside the sandbox (no SDK round trip in it). */
async function requests(sandbox: Sandbox, url: string): Promise<number[]> {
  const out = await sandbox.commands.run(`for i in $(seq ${REQUESTS}); do curl -sS -o /dev/null -m 5 -w '%{time_total}\\n' ${url}; done`);
  return out.stdout
    .trim()
    .split('\n')
    .map((s) => Number(s) * 1000);
}

async function main(): Promise<void> {
  const netns = await TestNetns.create();
  try {
    const isolated = await RuntimeProcess.start(['--uplink', 'none', '--warm-pool', '0']);
    const noUplink = await coldCreates(isolated).finally(() => isolated.dispose());
    const runtime = await RuntimeProcess.start([...netns.uplinkArg, '--warm-pool', '0']);
    try {
      const withUplink = await coldCreates(runtime);
      const open = await Sandbox.create({ ...runtime.sdk });
      const byDomain = await Sandbox.create({ ...runtime.sdk, network: { denyOut: [ALL_TRAFFIC], allowOut: [TEST_NAMES.one] } });
      const nat = await requests(open, `http://${TEST_HOSTS.one}/`);
      const proxied = await requests(byDomain, `http://${TEST_NAMES.one}/`);
      await Promise.all([open.kill(), byDomain.kill()]);
      report('runtime-network-latency', {
        unit: 'ms',
        create_to_first_command_cold_no_uplink: summary(noUplink),
        create_to_first_command_cold_with_uplink: summary(withUplink),
        http_request_through_nat: summary(nat),
        http_request_through_domain_proxy: summary(proxied),
      });
    } finally {
      await runtime.dispose();
    }
  } finally {
    netns.remove();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
