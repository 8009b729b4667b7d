// "Run selection / file in sandbox": the editor's code runs in a code-interpreter sandbox of the
// workspace (created on first use), in the editor language's context; text goes to the "E2B Run"
// output channel as it streams, rich results to the results panel. Its sandbox is recorded as
// owned by "Run Selection" of the workspace, and made again only when the old one is really gone
// (a slow network keeps it, and the variables in it).
import * as vscode from 'vscode';
import { SandboxConnections } from '../../connection/sandbox-connections';
import { UserFacingError } from '../../connection/user-errors';
import { ResultsPanel } from '../../views/results-panel';
import { InterpreterSessions, SandboxOwner } from '../notebook/interpreter-sessions';
import { interpreterLanguage, MimeItem, resultMimeItems } from '../notebook/result-mime';

/** All editors of a workspace share one run sandbox (and one context per language). */
export const RUN_SESSION_KEY = 'e2b:run-selection';

export interface RunOutcome {
  stdout: string;
  stderr: string;
  results: MimeItem[][];
  error?: { name: string; value: string; traceback: string };
}

export class CodeRunner implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel('E2B Run');

  constructor(
    private readonly sessions: InterpreterSessions,
    private readonly connections: SandboxConnections,
    private readonly results: ResultsPanel,
  ) {}

  async run(code: string, languageId: string, title: string): Promise<RunOutcome> {
    const language = interpreterLanguage(languageId);
    if (!language)
      throw new UserFacingError(`${languageId} cannot run in an E2B sandbox: use Python, JavaScript, TypeScript, Bash, R or Java.`);
    if (!code.trim()) throw new UserFacingError('There is no code to run: select some, or run the whole file.');
    if (!this.sessions.sandboxIdOf(RUN_SESSION_KEY)) await this.sessions.createFor(RUN_SESSION_KEY, runOwner());
    const outcome: RunOutcome = { stdout: '', stderr: '', results: [] };
    this.output.show(true);
    this.output.appendLine(`▶ ${title} (${language}) in sandbox ${this.sessions.sandboxIdOf(RUN_SESSION_KEY)}`);
    const run = async () => {
      const { sandbox, context } = await this.sessions.context(RUN_SESSION_KEY, language);
      const envs = vscode.workspace.getConfiguration('e2b').get<Record<string, string>>('notebook.envVars', {});
      return sandbox.runCode(code, {
        context,
        envs,
        timeoutMs: 0,
        onStdout: (m) => {
          outcome.stdout += m.line;
          this.output.append(m.line);
        },
        onStderr: (m) => {
          outcome.stderr += m.line;
          this.output.append(m.line);
        },
        onResult: (r) => {
          const items = resultMimeItems(r as never);
          outcome.results.push(items);
          if (r.text !== undefined) this.output.appendLine(r.text);
        },
      });
    };
    let execution;
    try {
      execution = await run();
    } catch (err) {
      const sandboxId = this.sessions.sandboxIdOf(RUN_SESSION_KEY)!;
      const verdict = await this.connections.judge(sandboxId, err);
      if (verdict === 'connection') {
        throw new UserFacingError(
          `The connection to the run sandbox ${sandboxId} was lost or too slow (${(err as Error).message}); the sandbox and its variables are kept. Run again once the connection is back.`,
          ['Retry'],
          'unreachable',
        );
      }
      if (verdict === 'paused')
        throw new UserFacingError(
          `The run sandbox ${sandboxId} is paused: resume it from the Sandbox Explorer, then run again (its variables are kept).`,
          ['Refresh'],
        );
      if (verdict !== 'gone') throw err;
      // The run sandbox expired or was killed: start a new one, once.
      await this.sessions.forgetSandbox(sandboxId);
      await this.sessions.createFor(RUN_SESSION_KEY, runOwner());
      this.output.appendLine(
        `(the previous run sandbox ${sandboxId} is gone: running in a new one, ${this.sessions.sandboxIdOf(RUN_SESSION_KEY)})`,
      );
      execution = await run();
    }
    if (execution.error) {
      outcome.error = { name: execution.error.name, value: execution.error.value, traceback: execution.error.traceback };
      this.output.appendLine(`${execution.error.name}: ${execution.error.value}`);
    }
    const rich = outcome.results.filter((items) => items.some((i) => i.mime !== 'text/plain'));
    if (rich.length > 0 || outcome.error) this.results.show({ title, items: rich, error: outcome.error });
    return outcome;
  }

  dispose(): void {
    this.output.dispose();
  }
}

/** The run sandbox belongs to the workspace's Run Selection (shown in the explorer as its owner). */
export function runOwner(): SandboxOwner {
  const workspace = vscode.workspace.name ?? 'this window';
  return {
    name: `Run Selection (${workspace})`,
    uri: vscode.workspace.workspaceFile?.toString() ?? vscode.workspace.workspaceFolders?.[0]?.uri.toString() ?? RUN_SESSION_KEY,
  };
}
