// "Edit Network Rules…" on a running sandbox: shows its current egress rules, asks for new ones
// (internet on/off or allow/deny lists) and applies them with E2B's updateNetwork, which
// replaces every rule at once.
import * as vscode from 'vscode';
import { describeNetwork, NetworkRules } from '../views/network-rules';
import { askNetworkRules } from './network-input';
import { resolveSandboxId } from './pick-sandbox';
import { Services } from './services';

export async function editNetworkRules(services: Services, arg?: unknown, rulesArg?: NetworkRules) {
  const id = await resolveSandboxId(services, arg, 'Sandbox whose network rules to edit');
  if (!id) return undefined;
  const info = await services.sandboxes.getInfo(id);
  if (info.state !== 'running') {
    void vscode.window.showWarningMessage(`Sandbox ${id} is ${info.state}: resume it first, then edit its network rules.`);
    return undefined;
  }
  const rules = rulesArg ?? (await askNetworkRules(`Network rules of ${id}`, info));
  if (!rules) return undefined;
  await services.sandboxes.updateNetwork(id, rules);
  services.refresher.refreshNow();
  const now = describeNetwork({ allowInternetAccess: rules.allowInternetAccess, network: rules });
  services.log.info(`network rules of ${id}: ${now}`);
  void vscode.window.showInformationMessage(`Sandbox ${id}: network rules now ${now}.`);
  return now;
}
