// The two Node modules the SDK loads, dynamically, only to upload from a file path. Declared here instead of
// depending on @types/node, so nothing Node-only leaks into the browser-facing types.
declare module 'node:fs' {
  export const promises: {stat(path: string): Promise<{size: number; isFile(): boolean}>};
  export function openAsBlob(path: string): Promise<Blob>;
}
declare module 'node:path' {
  export function basename(path: string): string;
}
