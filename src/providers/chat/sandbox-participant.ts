// The @e2b chat participant: the model writes code, the E2B tools run it in a sandbox, and the
// outputs (text, errors, charts) appear in the chat response as they come.
import { randomUUID } from 'node:crypto';
import * as vscode from 'vscode';

export const PARTICIPANT_ID = 'e2b.assistant';
const MAX_ROUNDS = 8;

const INSTRUCTIONS = [
  'You answer by running code in an isolated E2B sandbox with the e2b_* tools, never by guessing results.',
  'Use e2b_runCode (Python by default; numpy, pandas and matplotlib are installed) for computation and charts,',
  'e2b_runCommand for shell work, and the file tools for files in the sandbox. Variables persist between e2b_runCode calls.',
  'After running, explain the results briefly.',
].join(' ');

export function registerSandboxParticipant(context: vscode.ExtensionContext): vscode.Disposable {
  const participant = vscode.chat.createChatParticipant(PARTICIPANT_ID, (request, chatContext, stream, token) =>
    answer(context, request, chatContext, stream, token),
  );
  participant.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'e2b.svg');
  return participant;
}

async function answer(
  context: vscode.ExtensionContext,
  request: vscode.ChatRequest,
  chatContext: vscode.ChatContext,
  stream: vscode.ChatResponseStream,
  token: vscode.CancellationToken,
): Promise<vscode.ChatResult> {
  const tools = vscode.lm.tools
    .filter((t) => t.name.startsWith('e2b_'))
    .map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema }));
  const history = chatContext.history.flatMap((turn) => {
    if (turn instanceof vscode.ChatRequestTurn) return [vscode.LanguageModelChatMessage.User(turn.prompt)];
    const text = turn.response.map((part) => (part instanceof vscode.ChatResponseMarkdownPart ? part.value.value : '')).join('');
    return text ? [vscode.LanguageModelChatMessage.Assistant(text)] : [];
  });
  const messages = [vscode.LanguageModelChatMessage.User(INSTRUCTIONS), ...history, vscode.LanguageModelChatMessage.User(request.prompt)];
  for (let round = 0; round < MAX_ROUNDS && !token.isCancellationRequested; round++) {
    const response = await request.model.sendRequest(messages, { tools }, token);
    const calls: vscode.LanguageModelToolCallPart[] = [];
    const said: vscode.LanguageModelTextPart[] = [];
    for await (const part of response.stream) {
      if (part instanceof vscode.LanguageModelTextPart) {
        stream.markdown(part.value);
        said.push(part);
      } else if (part instanceof vscode.LanguageModelToolCallPart) {
        calls.push(part);
      }
    }
    if (calls.length === 0) return {};
    messages.push(vscode.LanguageModelChatMessage.Assistant([...said, ...calls]));
    for (const call of calls) {
      stream.progress(`Running ${call.name.replace('e2b_', '')} in a sandbox…`);
      const result = await vscode.lm.invokeTool(call.name, { input: call.input, toolInvocationToken: request.toolInvocationToken }, token);
      await showToolResult(context, result, stream);
      messages.push(vscode.LanguageModelChatMessage.User([new vscode.LanguageModelToolResultPart(call.callId, result.content)]));
    }
  }
  return {};
}

/** Tool output in the response: text as a block, images saved to extension storage and shown. */
async function showToolResult(
  context: vscode.ExtensionContext,
  result: vscode.LanguageModelToolResult,
  stream: vscode.ChatResponseStream,
): Promise<void> {
  for (const part of result.content) {
    if (part instanceof vscode.LanguageModelTextPart) {
      stream.markdown(`\n\`\`\`text\n${part.value.replace(/```/g, "'''")}\n\`\`\`\n`);
    } else if (part instanceof vscode.LanguageModelDataPart && part.mimeType.startsWith('image/')) {
      const dir = vscode.Uri.joinPath(context.globalStorageUri, 'chat-images');
      await vscode.workspace.fs.createDirectory(dir);
      const file = vscode.Uri.joinPath(dir, `${randomUUID()}.${part.mimeType.split('/')[1]}`);
      await vscode.workspace.fs.writeFile(file, part.data);
      stream.markdown(new vscode.MarkdownString(`\n![chart](${file.toString()})\n`));
      stream.reference(file);
    }
  }
}
