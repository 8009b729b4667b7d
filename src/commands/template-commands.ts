// Templates: list, build from the workspace's e2b.Dockerfile (log streamed to an output channel,
// progress, cancellable wait), start a sandbox from one (or from one of its tags), and assign or
// remove its tags. The command index (command-index.ts) maps their ids to these handlers.
import * as vscode from 'vscode';
import type { TemplateSummary } from '../connection/sandbox-service';
import {
  DEFAULT_TAG,
  isErrorNode,
  isTagNode,
  TemplateNode,
  templateName,
  templateReference,
  TemplatesTreeProvider,
  TemplateTagNode,
} from '../views/templates-tree';
import { askText, pickOne } from './inputs';
import { Services } from './services';

/** E2B's tag syntax (it lowercases first): letters, digits, '.', '_' and '-'. */
const TAG_SYNTAX = /^[a-z0-9_.-]+$/;

export async function buildTemplate(
  services: Services,
  templates: TemplatesTreeProvider,
  buildLog: vscode.OutputChannel,
  fileArg?: vscode.Uri,
  nameArg?: string,
) {
  const file = fileArg ?? (await findDockerfile());
  if (!file) throw new Error('No e2b.Dockerfile found in the workspace: create one (FROM e2bdev/base, RUN …) and try again.');
  const dockerfile = new TextDecoder().decode(await vscode.workspace.fs.readFile(file));
  const name =
    nameArg ??
    (await vscode.window.showInputBox({
      title: 'Build template',
      prompt: `Name for the template built from ${vscode.workspace.asRelativePath(file)}, optionally with a tag (name:tag) that then points at this build instead of "${DEFAULT_TAG}"`,
      value: defaultTemplateName(file),
      validateInput: (v) =>
        /^[a-z0-9][a-z0-9._-]*(:[a-z0-9_.-]+)?$/.test(v)
          ? undefined
          : 'Use lowercase letters, digits, ".", "_" and "-", then optionally :tag',
    }));
  if (!name) return undefined;
  buildLog.clear();
  buildLog.show(true);
  buildLog.appendLine(`Building template "${name}" from ${file.fsPath}`);
  const templateId = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Building template "${name}"…` },
    async (progress) =>
      services.sandboxes.buildTemplate(name, dockerfile, (line) => {
        buildLog.appendLine(line);
        progress.report({ message: line.replace(/^\S+ \S+\s+/, '').slice(0, 80) });
      }),
  );
  buildLog.appendLine(`Template "${name}" is ready (${templateId}).`);
  await templates.refresh();
  const choice = nameArg ? undefined : await vscode.window.showInformationMessage(`Template "${name}" is built.`, 'Create Sandbox');
  if (choice) await vscode.commands.executeCommand('e2b.createSandbox', { template: name });
  return templateId;
}

export async function createFromTemplate(node?: TemplateSummary | TemplateTagNode) {
  const name = !node ? undefined : isTagNode(node) ? templateReference(node.template, node.tag) : templateName(node);
  return vscode.commands.executeCommand('e2b.createSandbox', name ? { template: name } : undefined);
}

/** On a template row: tags for the build its default tag points at; on a tag row: for that tag's build. */
export async function assignTemplateTag(services: Services, templates: TemplatesTreeProvider, node?: TemplateNode, tagsArg?: string) {
  const target = node && !isErrorNode(node) ? node : await pickTemplate(templates, 'Assign tags to which template?');
  if (!target) return undefined;
  const reference = isTagNode(target) ? `${templateName(target.template)}:${target.tag}` : templateName(target);
  const text =
    tagsArg ??
    (await askText({
      title: `Assign tags to ${reference}`,
      prompt: `Tags to point at the build ${reference} starts, separated by commas. A tag another build has moves here; assigning "${DEFAULT_TAG}" makes this build what the name alone starts.`,
      placeHolder: 'v1, stable',
      validateInput: (v) => tagProblem(v),
    }));
  if (text === undefined) return undefined;
  const problem = tagProblem(text);
  if (problem) throw new Error(problem);
  const tags = splitTags(text);
  const buildId = await services.sandboxes.assignTemplateTags(reference, tags);
  await templates.refresh();
  void vscode.window.showInformationMessage(
    `${tags.map((t) => `${templateName(isTagNode(target) ? target.template : target)}:${t}`).join(', ')} now ${tags.length === 1 ? 'points' : 'point'} at build ${buildId.slice(0, 8)}.`,
  );
  return buildId;
}

export async function removeTemplateTag(services: Services, templates: TemplatesTreeProvider, node?: TemplateTagNode) {
  if (!node || !isTagNode(node)) throw new Error('Choose a tag under a template in the Templates view, then Remove Tag.');
  if (node.tag === DEFAULT_TAG)
    throw new Error(
      `The "${DEFAULT_TAG}" tag cannot be removed: it is what the template's name alone starts. Assign "${DEFAULT_TAG}" to another build to move it.`,
    );
  const name = templateName(node.template);
  await services.sandboxes.removeTemplateTags(name, [node.tag]);
  await templates.refresh();
  void vscode.window.showInformationMessage(`Removed tag ${name}:${node.tag}. Sandboxes already running from it keep running.`);
  return true;
}

async function pickTemplate(templates: TemplatesTreeProvider, title: string): Promise<TemplateSummary | undefined> {
  if (templates.items.length === 0) await templates.refresh();
  const picked = await pickOne(
    templates.items.map((t) => ({ label: templateName(t), template: t })),
    { title },
  );
  return picked?.template;
}

function splitTags(text: string): string[] {
  return text
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
}

/** Why the text is not a list of tags E2B accepts; undefined when it is. */
function tagProblem(text: string): string | undefined {
  const tags = splitTags(text);
  if (tags.length === 0) return 'Enter at least one tag';
  const bad = tags.find((t) => !TAG_SYNTAX.test(t));
  return bad ? `"${bad}" is not a valid tag: use letters, digits, ".", "_" and "-"` : undefined;
}

async function findDockerfile(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && /e2b\.Dockerfile$/.test(active.path)) return active;
  const found = await vscode.workspace.findFiles('**/e2b.Dockerfile', '**/node_modules/**', 10);
  if (found.length <= 1) return found[0];
  const picked = await vscode.window.showQuickPick(
    found.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    { title: 'Which e2b.Dockerfile?' },
  );
  return picked?.uri;
}

function defaultTemplateName(file: vscode.Uri): string {
  const folder = file.path.split('/').slice(-2, -1)[0] ?? 'template';
  return (
    folder
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[^a-z0-9]+/, '') || 'template'
  );
}
