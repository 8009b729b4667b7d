// Tool results for language models: text bounded in size (a model's context is precious), and
// images as data parts.
export const MAX_TOOL_TEXT = 20_000;

export function boundText(text: string, limit = MAX_TOOL_TEXT): string {
  if (text.length <= limit) return text;
  const head = text.slice(0, Math.floor(limit * 0.7));
  const tail = text.slice(text.length - Math.floor(limit * 0.2));
  return `${head}\n… [${text.length - head.length - tail.length} characters cut] …\n${tail}`;
}
