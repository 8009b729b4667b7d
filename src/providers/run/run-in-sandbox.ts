// "Run selection / file in sandbox": the editor's code runs in a code-interpreter sandbox of the
// workspace (created on first use), in the editor language's context; text goes to the "E2B Run"
// output channel as it streams, rich results to the results panel.
import * as vscode from 'vscode';
import { UserFacingError } from '../../connection/user-errors';
import { ResultsPanel } from '../../views/results-panel';
import { InterpreterSessions } from '../notebook/interpreter-sessions';
import { interpreterLanguage, MimeItem, resultMimeItems } from '../notebook/result-mime';

/** All editors of a workspace share one run sandbox (and one context per language). */
export const RUN_SESSION_KEY = 'e2b:run-selection';

export interface RunOutcome { stdout: string; stderr: string; results: MimeItem[][]; error?: { name: string; value: string; traceback: string } }

export class CodeRunner implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel('E2B Run');

  constructor(private readonly sessions: InterpreterSessions, private readonly results: ResultsPanel) {}

  async run(code: string, languageId: string, title: string): Promise<RunOutcome> {
    const language = interpreterLanguage(languageId);
    if (!language) throw new UserFacingError(`${languageId} cannot run in an E2B sandbox: use Python, JavaScript, TypeScript, Bash or R.`);
    if (!code.trim()) throw new UserFacingError('There is no code to run: select some, or run the whole file.');
    if (!this.sessions.sandboxIdOf(RUN_SESSION_KEY)) await this.sessions.createFor(RUN_SESSION_KEY);
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
        onStdout: (m) => { outcome.stdout += m.line; this.output.append(m.line); },
        onStderr: (m) => { outcome.stderr += m.line; this.output.append(m.line); },
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
      // The run sandbox expired: start a new one once.
      if (!/not found|timeout|no longer exists|502/i.test((err as Error).message)) throw err;
      await this.sessions.unassign(RUN_SESSION_KEY);
      await this.sessions.createFor(RUN_SESSION_KEY);
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
