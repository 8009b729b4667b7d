// e2b://<sandboxId>/<absolute path in the sandbox>
import * as vscode from 'vscode';

export const E2B_SCHEME = 'e2b';

export function sandboxUri(sandboxId: string, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: E2B_SCHEME, authority: sandboxId, path: path.startsWith('/') ? path : `/${path}` });
}

export function parseSandboxUri(uri: vscode.Uri): { sandboxId: string; path: string } {
  if (uri.scheme !== E2B_SCHEME || !/^[a-z0-9]+$/.test(uri.authority)) throw vscode.FileSystemError.FileNotFound(uri);
  return { sandboxId: uri.authority, path: uri.path || '/' };
}

export function parentPath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  return slash <= 0 ? '/' : trimmed.slice(0, slash);
}

export function baseName(path: string): string {
  return path.replace(/\/+$/, '').split('/').pop() ?? '';
}
