// The endpoint package file: a ZIP with configuration.json (EndpointConfiguration, proto3 JSON) and the recorder files.
import { commonV1 } from '@dc/proto';
import { ZipFile } from 'yazl';

/** Builds the ZIP in memory; entries carry the build time so the same build gives the same bytes. */
export async function packageZip(configuration: commonV1.EndpointConfiguration, builtAt: Date): Promise<Buffer> {
  const zip = new ZipFile();
  const add = (name: string, text: string) => zip.addBuffer(Buffer.from(text, 'utf8'), name, { mtime: builtAt, mode: 0o600 });
  add('configuration.json', `${JSON.stringify(commonV1.EndpointConfiguration.toJSON(configuration), null, 2)}\n`);
  for (const file of configuration.recorderFiles) add(`recorder/${file.name}`, file.content);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
