// Sandboxes as language-model tools for VS Code's chat: run code, run a shell command, read,
// write and list files. Each acts on the sandbox the call names, else on the window's active
// sandbox (commands and files), else on the workspace's run sandbox (a code-interpreter sandbox,
// created on first use; code always runs there unless a sandbox is named). Confirmations say what runs where;
// cancellation stops the work; output is bounded.
import * as vscode from 'vscode';
import type { Sandbox } from '@e2b/code-interpreter';
import { InterpreterSessions } from '../notebook/interpreter-sessions';
import { interruptContext } from '../notebook/interrupt';
import { RUN_SESSION_KEY, runOwner } from '../run/run-in-sandbox';
import { boundText } from './tool-output';

interface SandboxInput {
  sandboxId?: string;
}
interface RunCodeInput extends SandboxInput {
  code: string;
  language?: string;
}
interface RunCommandInput extends SandboxInput {
  command: string;
  cwd?: string;
  timeoutSeconds?: number;
}
interface ReadFileInput extends SandboxInput {
  path: string;
}
interface WriteFileInput extends SandboxInput {
  path: string;
  content: string;
}
interface ListDirectoryInput extends SandboxInput {
  path: string;
  depth?: number;
}

export const TOOL_NAMES = {
  runCode: 'e2b_runCode',
  runCommand: 'e2b_runCommand',
  readFile: 'e2b_readFile',
  writeFile: 'e2b_writeFile',
  listDirectory: 'e2b_listDirectory',
} as const;

const text = (value: string) => new vscode.LanguageModelTextPart(value);

export class SandboxTools {
  constructor(
    private readonly sessions: InterpreterSessions,
    private readonly activeSandboxId: () => string | undefined,
  ) {}

  register(): vscode.Disposable[] {
    return [
      vscode.lm.registerTool<RunCodeInput>(TOOL_NAMES.runCode, {
        prepareInvocation: (o) =>
          this.confirm(
            o.input,
            `Run ${o.input.language ?? 'python'} in a sandbox`,
            fence(o.input.code, o.input.language ?? 'python'),
            true,
          ),
        invoke: (o, token) => this.runCode(o.input, token),
      }),
      vscode.lm.registerTool<RunCommandInput>(TOOL_NAMES.runCommand, {
        prepareInvocation: (o) => this.confirm(o.input, 'Run a shell command in a sandbox', fence(o.input.command, 'sh')),
        invoke: (o, token) => this.runCommand(o.input, token),
      }),
      vscode.lm.registerTool<ReadFileInput>(TOOL_NAMES.readFile, {
        prepareInvocation: (o) => ({ invocationMessage: `Reading ${o.input.path} in a sandbox` }),
        invoke: (o) =>
          this.withSandbox(
            o.input,
            false,
            async (s) => new vscode.LanguageModelToolResult([text(boundText(await s.files.read(o.input.path)))]),
          ),
      }),
      vscode.lm.registerTool<WriteFileInput>(TOOL_NAMES.writeFile, {
        prepareInvocation: (o) => this.confirm(o.input, `Write ${o.input.path} in a sandbox`, fence(o.input.content.slice(0, 2000), '')),
        invoke: (o) =>
          this.withSandbox(o.input, false, async (s) => {
            const info = await s.files.write(o.input.path, o.input.content);
            return new vscode.LanguageModelToolResult([text(`Wrote ${o.input.content.length} characters to ${info.path}.`)]);
          }),
      }),
      vscode.lm.registerTool<ListDirectoryInput>(TOOL_NAMES.listDirectory, {
        prepareInvocation: (o) => ({ invocationMessage: `Listing ${o.input.path} in a sandbox` }),
        invoke: (o) =>
          this.withSandbox(o.input, false, async (s) => {
            const entries = await s.files.list(o.input.path, { depth: Math.max(1, Math.min(o.input.depth ?? 1, 5)) });
            const lines = entries.map(
              (e) => `${e.type === 'dir' ? 'dir ' : 'file'} ${e.path}${e.type === 'file' ? ` (${e.size} bytes)` : ''}`,
            );
            return new vscode.LanguageModelToolResult([text(boundText(lines.join('\n') || '(empty)'))]);
          }),
      }),
    ];
  }

  /** What the user is asked before code runs or a file is written (unless they turned asking off). */
  confirm(input: SandboxInput, title: string, body: string, forCode = false): vscode.PreparedToolInvocation {
    const where = this.targetSandboxId(input, forCode) ?? 'a new code-interpreter sandbox';
    const ask = vscode.workspace.getConfiguration('e2b').get<boolean>('chat.confirmToolRuns', true);
    return {
      invocationMessage: `${title} (${where})`,
      confirmationMessages: ask ? { title, message: new vscode.MarkdownString(`In sandbox **${where}**:\n\n${body}`) } : undefined,
    };
  }

  private async runCode(input: RunCodeInput, token: vscode.CancellationToken): Promise<vscode.LanguageModelToolResult> {
    return this.withSandbox(input, true, async (sandbox) => {
      const language = input.language ?? 'python';
      const key = input.sandboxId ? `e2b:tool:${input.sandboxId}` : RUN_SESSION_KEY;
      if (input.sandboxId && !this.sessions.sandboxIdOf(key)) await this.sessions.assign(key, input.sandboxId);
      const { context } = await this.sessions.context(key, language);
      const cancel = token.onCancellationRequested(() => void interruptContext(sandbox, context.id).catch(() => undefined));
      try {
        const execution = await sandbox.runCode(input.code, { context, timeoutMs: 0 });
        const parts: unknown[] = [];
        const logs = [...execution.logs.stdout, ...execution.logs.stderr.map((l) => `[stderr] ${l}`)].join('');
        if (logs) parts.push(text(`Output:\n${boundText(logs)}`));
        for (const result of execution.results) {
          if (result.png) parts.push(vscode.LanguageModelDataPart.image(Buffer.from(result.png, 'base64'), 'image/png'));
          else if (result.text !== undefined)
            parts.push(text(`${result.isMainResult ? 'Result' : 'Displayed'}: ${boundText(result.text, 5000)}`));
        }
        if (execution.error)
          parts.push(
            text(
              `Error ${execution.error.name}: ${execution.error.value}\n${boundText(execution.error.traceback.replace(/\x1b\[[0-9;]*m/g, ''), 5000)}`,
            ),
          );
        if (parts.length === 0) parts.push(text('The code ran and produced no output.'));
        return new vscode.LanguageModelToolResult(parts);
      } finally {
        cancel.dispose();
      }
    });
  }

  private async runCommand(input: RunCommandInput, token: vscode.CancellationToken): Promise<vscode.LanguageModelToolResult> {
    return this.withSandbox(input, false, async (sandbox) => {
      const handle = await sandbox.commands.run(input.command, {
        background: true,
        cwd: input.cwd,
        timeoutMs: (input.timeoutSeconds ?? 120) * 1000,
      });
      const cancel = token.onCancellationRequested(() => void handle.kill().catch(() => undefined));
      try {
        const result = await handle.wait().catch((err: { exitCode?: number; stdout?: string; stderr?: string; message: string }) => {
          if (err.exitCode === undefined) throw err;
          return { exitCode: err.exitCode, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
        });
        return new vscode.LanguageModelToolResult([
          text(`Exit code ${result.exitCode}\nstdout:\n${boundText(result.stdout)}\nstderr:\n${boundText(result.stderr, 5000)}`),
        ]);
      } finally {
        cancel.dispose();
      }
    });
  }

  /** The sandbox a call acts on; undefined when a run sandbox has to be created first. */
  private targetSandboxId(input: SandboxInput, forCode: boolean): string | undefined {
    return input.sandboxId ?? (forCode ? undefined : this.activeSandboxId()) ?? this.sessions.sandboxIdOf(RUN_SESSION_KEY);
  }

  private async withSandbox(
    input: SandboxInput,
    forCode: boolean,
    action: (sandbox: Sandbox) => Promise<vscode.LanguageModelToolResult>,
  ): Promise<vscode.LanguageModelToolResult> {
    const sandboxId = this.targetSandboxId(input, forCode) ?? (await this.sessions.createFor(RUN_SESSION_KEY, runOwner()));
    return action(await this.sessions.sandbox(sandboxId));
  }
}

function fence(code: string, language: string): string {
  const ticks = code.includes('```') ? '````' : '```';
  return `${ticks}${language}\n${code}\n${ticks}`;
}
