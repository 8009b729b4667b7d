// SDK errors → typed FileSystemErrors, so VS Code says "file not found", "already exists",
// "sandbox unavailable"… instead of a generic failure.
import * as vscode from 'vscode';

export function toFileSystemError(err: unknown, uri: vscode.Uri): Error {
  if (err instanceof vscode.FileSystemError) return err;
  const name = (err as { name?: string })?.name ?? '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'FileNotFoundError' || (name === 'NotFoundError' && !/sandbox/i.test(message)))
    return vscode.FileSystemError.FileNotFound(uri);
  if (/already exists/i.test(message)) return vscode.FileSystemError.FileExists(uri);
  if (/not a directory/i.test(message)) return vscode.FileSystemError.FileNotADirectory(uri);
  if (/is a directory/i.test(message)) return vscode.FileSystemError.FileIsADirectory(uri);
  if (name === 'AuthenticationError' || /permission denied/i.test(message)) return vscode.FileSystemError.NoPermissions(uri);
  if (name === 'NotEnoughSpaceError') return vscode.FileSystemError.NoPermissions(`The sandbox's disk is full (${uri.path})`);
  // The sandbox is gone, paused or unreachable: a state of the sandbox, not of the file.
  return vscode.FileSystemError.Unavailable(`${uri.authority}: ${message}`);
}
