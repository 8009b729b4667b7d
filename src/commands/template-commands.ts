// Templates: list, build from the workspace's e2b.Dockerfile (log streamed to an output channel,
// progress, cancellable wait), and start a sandbox from one.
import * as vscode from 'vscode';
import type { TemplateSummary } from '../connection/sandbox-service';
import { TemplatesTreeProvider } from '../views/templates-tree';
import { registerCommand, Services } from './services';

export function registerTemplateCommands(services: Services, templates: TemplatesTreeProvider): void {
  const buildLog = vscode.window.createOutputChannel('E2B Template Build');
  services.context.subscriptions.push(buildLog);

  registerCommand(services, 'e2b.refreshTemplates', () => templates.refresh());

  registerCommand(services, 'e2b.buildTemplate', async (fileArg?: vscode.Uri, nameArg?: string) => {
    const file = fileArg ?? await findDockerfile();
    if (!file) throw new Error('No e2b.Dockerfile found in the workspace: create one (FROM e2bdev/base, RUN …) and try again.');
    const dockerfile = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
    const name = nameArg ?? await vscode.window.showInputBox({
      title: 'Build template',
      prompt: `Name for the template built from ${vscode.workspace.asRelativePath(file)}`,
      value: defaultTemplateName(file),
      validateInput: (v) => (/^[a-z0-9][a-z0-9._-]*$/.test(v) ? undefined : 'Use lowercase letters, digits, ".", "_" and "-"'),
    });
    if (!name) return undefined;
    buildLog.clear();
    buildLog.show(true);
    buildLog.appendLine(`Building template "${name}" from ${file.fsPath}`);
    const templateId = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Building template "${name}"…` },
      async (progress) => services.sandboxes.buildTemplate(name, dockerfile, (line) => {
        buildLog.appendLine(line);
        progress.report({ message: line.replace(/^\S+ \S+\s+/, '').slice(0, 80) });
      }),
    );
    buildLog.appendLine(`Template "${name}" is ready (${templateId}).`);
    await templates.refresh();
    const choice = nameArg ? undefined : await vscode.window.showInformationMessage(`Template "${name}" is built.`, 'Create Sandbox');
    if (choice) await vscode.commands.executeCommand('e2b.createSandbox', { template: name });
    return templateId;
  });

  registerCommand(services, 'e2b.createFromTemplate', async (template?: TemplateSummary) => {
    const name = template ? (template.aliases?.[0] ?? template.templateID) : undefined;
    return vscode.commands.executeCommand('e2b.createSandbox', name ? { template: name } : undefined);
  });
}

async function findDockerfile(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && /e2b\.Dockerfile$/.test(active.path)) return active;
  const found = await vscode.workspace.findFiles('**/e2b.Dockerfile', '**/node_modules/**', 10);
  if (found.length <= 1) return found[0];
  const picked = await vscode.window.showQuickPick(found.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })), { title: 'Which e2b.Dockerfile?' });
  return picked?.uri;
}

function defaultTemplateName(file: vscode.Uri): string {
  const folder = file.path.split('/').slice(-2, -1)[0] ?? 'template';
  return folder.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '') || 'template';
}
