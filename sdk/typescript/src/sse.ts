/** One Server-Sent Event: its `id` (to resume with Last-Event-ID) and its `data` lines joined. */
export interface ServerSentEvent {
  id: string | undefined;
  data: string;
}

/** Parses a text/event-stream body (WHATWG rules: comments, multi-line data, CR/LF/CRLF) into events. */
export async function* parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  let id: string | undefined;
  try {
    for (;;) {
      const {done, value: bytes} = await reader.read();
      if (done) break;
      const value = decoder.decode(bytes, {stream: true});
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      // A trailing lone \r may be half of \r\n: keep it (and any partial line) for the next chunk.
      buffer = lines.pop() ?? '';
      if (buffer === '' && value.endsWith('\r')) buffer = '';
      for (const line of lines) {
        if (line === '') {
          if (data.length) yield {id, data: data.join('\n')};
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon === -1 ? line : line.slice(0, colon);
        let value = colon === -1 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') data.push(value);
        else if (field === 'id' && !value.includes('\0')) id = value;
      }
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => undefined);
  }
}
