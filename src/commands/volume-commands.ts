// Volumes: create (name checked as E2B checks it), delete (confirmed; a volume a sandbox mounts is
// refused with the server's reason), refresh, and new files and folders inside one. The command
// index (command-index.ts) maps their ids to these handlers.
import * as vscode from 'vscode';
import { VOLUME_NAME, VolumeService } from '../connection/volume-service';
import { volumeUri } from '../providers/volumes/volume-file-system';
import { VolumeNode, VolumesTreeProvider } from '../views/volumes-tree';
import { askText, pickOne } from './inputs';
import { Services } from './services';

export interface DeleteVolumeOptions {
  confirm?: boolean;
}

export async function createVolume(services: Services, tree: VolumesTreeProvider, nameArg?: string) {
  const name =
    typeof nameArg === 'string'
      ? nameArg
      : await askText({
          title: 'Create Volume',
          prompt: 'Name of the new volume: persistent storage you can mount into sandboxes',
          placeHolder: 'datasets',
          validateInput: (v) => (VOLUME_NAME.test(v) ? undefined : 'Use letters, digits, "_" and "-" only'),
        });
  if (!name) return undefined;
  const created = await services.volumes.create(name);
  services.log.info(`created volume ${created.name} (${created.volumeId})`);
  await tree.refresh();
  return created.volumeId;
}

export async function deleteVolume(
  services: Services,
  tree: VolumesTreeProvider,
  arg?: VolumeNode | string,
  options?: DeleteVolumeOptions,
) {
  const volume = await resolveVolume(services.volumes, arg);
  if (!volume) return false;
  if (options?.confirm !== false) {
    const choice = await vscode.window.showWarningMessage(
      `Delete volume "${volume.name}"? All its files are lost.`,
      { modal: true },
      'Delete',
    );
    if (choice !== 'Delete') return false;
  }
  const deleted = await services.volumes.destroy(volume.volumeId);
  await tree.refresh();
  if (!deleted) void vscode.window.showInformationMessage(`Volume "${volume.name}" was already gone.`);
  return deleted;
}

/** New File… / New Folder… on a volume or a folder in one. */
export async function newVolumeEntry(
  tree: VolumesTreeProvider,
  folder: boolean,
  node?: VolumeNode,
  nameArg?: string,
): Promise<vscode.Uri | undefined> {
  if (!node || node.kind === 'error') return undefined;
  const dir = node.kind === 'volume' ? '/' : node.entry.path;
  const name =
    nameArg ??
    (await askText({
      title: folder ? 'New Folder in Volume' : 'New File in Volume',
      prompt: `Name of the new ${folder ? 'folder' : 'file'} in ${node.volume.name}:${dir}`,
      validateInput: (v) => (v && !v.includes('/') ? undefined : 'Enter a name without "/"'),
    }));
  if (!name) return undefined;
  const uri = volumeUri(node.volume.volumeId, `${dir === '/' ? '' : dir}/${name}`);
  if (folder) await vscode.workspace.fs.createDirectory(uri);
  else {
    await vscode.workspace.fs.writeFile(uri, new Uint8Array());
    await vscode.window.showTextDocument(uri);
  }
  await tree.refresh();
  return uri;
}

/** The volume a command was invoked on: a view row, an id, or one picked from the list. */
async function resolveVolume(volumes: VolumeService, arg: VolumeNode | string | undefined) {
  if (arg && typeof arg === 'object' && arg.kind === 'volume') return arg.volume;
  const all = await volumes.list();
  if (typeof arg === 'string') return all.find((v) => v.volumeId === arg || v.name === arg) ?? { volumeId: arg, name: arg };
  if (all.length === 0) throw new Error('There are no volumes: create one with "E2B: Create Volume…".');
  return (
    await pickOne(
      all.map((v) => ({ label: v.name, description: v.volumeId, volume: v })),
      { title: 'Volume to delete' },
    )
  )?.volume;
}
