// Jupyter messages of one execution → the NDJSON lines of E2B's /execute stream (protocol §3.3).
import { JupyterMessage } from './kernel';

export type OutputLine =
  | { type: 'number_of_executions'; execution_count: number }
  | { type: 'stdout' | 'stderr'; text: string; timestamp: string }
  | { type: 'result'; is_main_result: boolean; [field: string]: unknown }
  | { type: 'error'; name: string; value: string; traceback: string }
  | { type: 'keepalive' }
  | { type: 'end_of_execution' };

/** Jupyter MIME type → field of E2B's result line; other MIME types go into `extra`. */
const MIME_FIELDS: [string, string][] = [
  ['text/plain', 'text'],
  ['text/html', 'html'],
  ['text/markdown', 'markdown'],
  ['image/svg+xml', 'svg'],
  ['image/png', 'png'],
  ['image/jpeg', 'jpeg'],
  ['application/pdf', 'pdf'],
  ['text/latex', 'latex'],
  ['application/json', 'json'],
  ['application/javascript', 'javascript'],
  ['e2b/data', 'data'],
  ['e2b/chart', 'chart'],
];

// CSI sequences (colours and the like) and OSC sequences.
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

export function resultLine(data: Record<string, unknown>, isMain: boolean, ansi: boolean): OutputLine {
  const rest: Record<string, unknown> = { ...data };
  const line: { type: 'result'; is_main_result: boolean; [field: string]: unknown } = { type: 'result', is_main_result: isMain };
  for (const [mime, field] of MIME_FIELDS) {
    if (!(mime in rest)) continue;
    let value = rest[mime];
    delete rest[mime];
    if (value === null || value === undefined) continue;
    if (field === 'text' && typeof value === 'string') {
      if (ansi) value = stripAnsi(value);
      value = stripQuotes(value as string);
    }
    line[field] = value;
  }
  line.extra = rest;
  return line;
}

/** One pair of surrounding single or double quotes is removed, as E2B's server does. */
function stripQuotes(text: string): string {
  if (text.length >= 2 && ((text.startsWith("'") && text.endsWith("'")) || (text.startsWith('"') && text.endsWith('"')))) {
    return text.slice(1, -1);
  }
  return text;
}

function joinTraceback(frames: unknown): string {
  if (!Array.isArray(frames)) return typeof frames === 'string' ? frames : '';
  return frames.map(String).join('\n');
}

export class OutputMapper {
  private errored = false;

  constructor(
    private readonly write: (line: OutputLine) => void,
    private readonly ansi: boolean,
  ) {}

  onMessage(msg: JupyterMessage): void {
    const content = msg.content ?? {};
    switch (msg.header.msg_type) {
      case 'execute_input':
        if (typeof content.execution_count === 'number')
          this.write({ type: 'number_of_executions', execution_count: content.execution_count });
        break;
      case 'stream':
        if (content.name === 'stdout' || content.name === 'stderr') {
          this.write({ type: content.name, text: String(content.text ?? ''), timestamp: msg.header.date || new Date().toISOString() });
        }
        break;
      case 'execute_result':
        this.write(resultLine(content.data ?? {}, true, this.ansi));
        break;
      case 'display_data':
        this.write(resultLine(content.data ?? {}, false, this.ansi));
        break;
      case 'error':
        this.error(content);
        break;
      case 'execute_reply':
        if (content.status === 'error') this.error(content);
        else if (content.status === 'abort' || content.status === 'aborted') this.fail('ExecutionAborted', 'Execution was aborted');
        break;
      default:
        break;
    }
  }

  /** A synthetic error (the kernel went away, the execution was aborted, ...). */
  fail(name: string, value: string): void {
    if (this.errored) return;
    this.errored = true;
    this.write({ type: 'error', name, value, traceback: '' });
  }

  private error(content: { ename?: unknown; evalue?: unknown; traceback?: unknown }): void {
    if (this.errored) return;
    this.errored = true;
    const clean = (s: string) => (this.ansi ? stripAnsi(s) : s);
    this.write({
      type: 'error',
      name: clean(String(content.ename ?? '')),
      value: clean(String(content.evalue ?? '')),
      traceback: clean(joinTraceback(content.traceback)),
    });
  }
}
