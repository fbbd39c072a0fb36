// The endpoint package file: a ZIP with configuration.json (EndpointConfiguration, proto3 JSON) and the recorder files.
import { commonV1 } from '@dc/proto';
import { ZipFile } from 'yazl';

/** Where the recorder's tools live on each OS (SPEC 2.3: under the client's Tools/Trace/). */
export const TOOLS_DIRECTORY: Record<string, string> = {
  WINDOWS: 'C:\\Program Files\\Direct Connect\\Tools\\Trace',
  LINUX: '/opt/direct-connect/Tools/Trace',
  MACOS: '/Library/Direct Connect/Tools/Trace',
};

/** Builds one OS's ZIP in memory; entries carry the build time so the same build gives the same bytes. */
export async function packageZip(os: string, configuration: commonV1.EndpointConfiguration, builtAt: Date): Promise<Buffer> {
  const zip = new ZipFile();
  const add = (name: string, text: string) => zip.addBuffer(Buffer.from(text, 'utf8'), name, { mtime: builtAt, mode: 0o600 });
  const manifest = { format: 'dc-endpoint-package/1', os, revision: configuration.revision, toolsDirectory: TOOLS_DIRECTORY[os], builtAt: builtAt.toISOString() };
  add('manifest.json', `${JSON.stringify(manifest, null, 2)}\n`);
  add('configuration.json', `${JSON.stringify(commonV1.EndpointConfiguration.toJSON(configuration), null, 2)}\n`);
  for (const file of configuration.recorderFiles) add(`recorder/${file.name}`, file.content);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
