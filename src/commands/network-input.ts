// Asking for a sandbox's network rules, shared by the create wizard's network step and Edit
// Network Rules…: internet on, internet off, or allow and deny lists (checked as they are typed).
import { ALL_TRAFFIC, describeNetwork, NetworkInfo, NetworkRules, networkListsProblem, parseNetworkList } from '../views/network-rules';
import { askText, pickOne, problemOf } from './inputs';

export async function askNetworkRules(step: string, current: NetworkInfo = {}): Promise<NetworkRules | undefined> {
  const choice = await pickOne(
    [
      {
        label: '$(globe) Internet on',
        description: 'the default: every public address (never your machine, your network or other sandboxes)',
        mode: 'on' as const,
      },
      {
        label: '$(circle-slash) Internet off',
        description: 'no outbound connections; commands, files and ports keep working',
        mode: 'off' as const,
      },
      { label: '$(list-filter) Allow and deny lists…', description: 'IP addresses, CIDR blocks, domains', mode: 'lists' as const },
    ],
    { title: `${step}: network`, placeHolder: `Outbound network access (now: ${describeNetwork(current)})` },
  );
  if (!choice) return undefined;
  if (choice.mode === 'on') return { allowInternetAccess: true };
  if (choice.mode === 'off') return { allowInternetAccess: false };
  const allowText = await askText({
    title: `${step}: allowed destinations`,
    prompt:
      'Reachable even when the deny list covers them: IP addresses, CIDR blocks, domains (example.com, *.example.com), separated by commas',
    value: (current.network?.allowOut ?? []).join(', '),
    placeHolder: 'example.com, 1.1.1.1, 8.8.8.0/24',
    validateInput: (v) => problemOf(() => parseNetworkList(v, 'allow')),
  });
  if (allowText === undefined) return undefined;
  const allowOut = parseNetworkList(allowText, 'allow');
  const denyText = await askText({
    title: `${step}: denied destinations`,
    prompt: `Unreachable unless allowed: IP addresses or CIDR blocks, separated by commas (${ALL_TRAFFIC} is everything)`,
    value: (current.network?.denyOut ?? (allowOut.some((e) => /[a-z*]/i.test(e) && !e.includes(':')) ? [ALL_TRAFFIC] : [])).join(', '),
    placeHolder: ALL_TRAFFIC,
    validateInput: (v) =>
      problemOf(() => {
        const problem = networkListsProblem(allowOut, parseNetworkList(v, 'deny'));
        if (problem) throw new Error(problem);
      }),
  });
  if (denyText === undefined) return undefined;
  return { allowInternetAccess: true, allowOut, denyOut: parseNetworkList(denyText, 'deny') };
}
