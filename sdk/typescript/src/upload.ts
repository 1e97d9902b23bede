import {RenderowlValidationError} from './errors.js';

/** What `assets.upload` accepts: bytes in memory, a Blob or File, a stream (give `size`), or a Node file path. */
export type UploadSource = Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array> | string;

export interface ResolvedSource {
  body: Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>;
  size: number;
  name: string | undefined;
  contentType: string | undefined;
}

const CONTENT_TYPES: Record<string, string> = {
  mp4: 'video/mp4', m4v: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', mkv: 'video/x-matroska',
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp',
  mp3: 'audio/mpeg', wav: 'audio/wav', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/ogg', m4a: 'audio/mp4',
  aac: 'audio/aac', flac: 'audio/flac', weba: 'audio/webm',
  ttf: 'font/ttf', otf: 'font/otf', ttc: 'font/collection', woff: 'font/woff', woff2: 'font/woff2',
  json: 'application/json',
};

/** The content type a file name's extension suggests, among those the API accepts. */
export function contentTypeFor(name: string | undefined): string | undefined {
  const extension = name?.split('.').pop()?.toLowerCase();
  return extension ? CONTENT_TYPES[extension] : undefined;
}

/** The asset type a content type belongs to (`video/mp4` → `video`, `application/json` → `template`). */
export function assetTypeFor(contentType: string | undefined): 'video' | 'image' | 'audio' | 'font' | 'template' | undefined {
  if (!contentType) return undefined;
  if (contentType === 'application/json') return 'template';
  if (contentType === 'application/font-sfnt') return 'font';
  const major = contentType.split('/')[0];
  return major === 'video' || major === 'image' || major === 'audio' || major === 'font' ? major : undefined;
}

function invalid(field: string, message: string): never {
  throw new RenderowlValidationError(`Invalid upload: ${field}: ${message}`, {
    code: 'validation_error', detail: `${field}: ${message}`, errors: [{field, message}],
  });
}

/**
 * Reads what is needed to declare the upload (size, and a name and content type when the source has them).
 *
 * Only a file path touches Node's file system, through a dynamic import, so browsers never load `node:` modules.
 */
export async function resolveSource(file: UploadSource, size: number | undefined): Promise<ResolvedSource> {
  if (typeof file === 'string') {
    let fs: typeof import('node:fs');
    let path: typeof import('node:path');
    try {
      // Inside try and marked ignorable, so browser bundlers leave these imports out instead of failing.
      fs = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:fs');
      path = await import(/* webpackIgnore: true */ /* @vite-ignore */ 'node:path');
    } catch {
      return invalid('file', 'A file path works only in Node; in a browser pass a File or Blob.');
    }
    let stat;
    try {
      stat = await fs.promises.stat(file);
    } catch (error) {
      return invalid('file', `Cannot read ${file}: ${(error as Error).message}`);
    }
    if (!stat.isFile()) invalid('file', `${file} is not a file.`);
    const name = path.basename(file);
    // openAsBlob reads lazily and can be read again, so a failed PUT can be retried without buffering.
    const body = await fs.openAsBlob(file);
    return {body, size: stat.size, name, contentType: contentTypeFor(name)};
  }
  if (typeof Blob !== 'undefined' && file instanceof Blob) {
    const name = typeof (file as File).name === 'string' ? (file as File).name : undefined;
    return {body: file, size: file.size, name, contentType: file.type || contentTypeFor(name)};
  }
  if (file instanceof ArrayBuffer) return {body: file, size: file.byteLength, name: undefined, contentType: undefined};
  if (ArrayBuffer.isView(file)) return {body: file, size: file.byteLength, name: undefined, contentType: undefined};
  if (typeof ReadableStream !== 'undefined' && file instanceof ReadableStream) {
    if (size === undefined) invalid('size', 'A stream has no length of its own: pass size, the exact number of bytes.');
    return {body: file, size, name: undefined, contentType: undefined};
  }
  return invalid('file', 'Pass a Blob, File, ArrayBuffer, Uint8Array, ReadableStream or a file path.');
}
