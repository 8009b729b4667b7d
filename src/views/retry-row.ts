// The row a tree view shows in place of what it could not list: the reason, and a click that
// tries again (the view's refresh command).
import * as vscode from 'vscode';

export function retryRow(label: string, message: string, retryCommand: string, contextValue: string): vscode.TreeItem {
  const item = new vscode.TreeItem(label);
  item.description = 'click to retry';
  item.tooltip = `${message}\n\nClick to try again.`;
  item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('errorForeground'));
  item.command = { command: retryCommand, title: 'Retry' };
  item.contextValue = contextValue;
  return item;
}
