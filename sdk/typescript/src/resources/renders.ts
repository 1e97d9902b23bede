import {sleep, type RequestOptions} from '../core.js';
import {RenderowlConnectionError, RenderowlError, RenderowlTimeoutError} from '../errors.js';
import type {
  ProjectsRendersListData,
  RenderCreateRequest,
  RenderJob,
  RenderJobWithOutput,
} from '../generated/types.gen.js';
import {
  zProjectsRendersCreateBody,
  zProjectsRendersCreateResponse,
  zProjectsRendersListQuery,
  zProjectsRendersListResponse,
  zRendersDestroyResponse,
  zRendersRetrieveResponse,
} from '../generated/zod.gen.js';
import type {PagePromise} from '../pagination.js';
import {parseEventStream} from '../sse.js';
import {validateResponse} from '../validation.js';
import {Resource} from './base.js';

export type RenderListParams = NonNullable<ProjectsRendersListData['query']>;

const RECONNECT_DELAY_MS = 500;

export const FINAL_RENDER_STATUSES: ReadonlySet<string> = new Set(['completed', 'failed', 'cancelled']);

export interface StreamOptions {
  signal?: AbortSignal;
  /** Resume after this event id (an earlier stream's last). */
  lastEventId?: string;
}

export interface RenderWaitOptions {
  /** Called with the job on each state or progress change. */
  onProgress?: (job: RenderJobWithOutput) => void;
  /** Give up after this many ms (RenderowlTimeoutError). Default 30 minutes. */
  timeout?: number;
  /** Poll interval when the event stream is unavailable, in ms. Default 1000. */
  pollInterval?: number;
  signal?: AbortSignal;
}

/** One event's data as a job: a JSON object, else the stream broke mid-event (a SyntaxError, so it is resumed). */
function eventJob(data: string): unknown {
  const job: unknown = JSON.parse(data);
  if (job === null || typeof job !== 'object' || Array.isArray(job)) throw new SyntaxError('The event is not a JSON object.');
  return job;
}

/** Renders: jobs that fill a template with props and produce an mp4, webm, gif, png or jpg. */
export class Renders extends Resource {
  /** Submits a render job (validated completely first); it comes back `queued`. */
  async submit(projectId: string, body: RenderCreateRequest, options?: RequestOptions): Promise<RenderJob> {
    return this.create(projectId, body, false, options);
  }

  /** Validates and resolves a submission without storing, queueing or emitting anything. */
  async dryRun(projectId: string, body: RenderCreateRequest, options?: RequestOptions): Promise<RenderJob> {
    return this.create(projectId, body, true, options);
  }

  private create(projectId: string, body: RenderCreateRequest, dryRun: boolean, options?: RequestOptions): Promise<RenderJob> {
    return this.http.request({
      method: 'POST', path: `/v1/projects/${this.id('projectId', projectId)}/renders`,
      query: dryRun ? {dryRun: 'true'} : undefined, body, bodySchema: zProjectsRendersCreateBody,
      responseSchema: zProjectsRendersCreateResponse, what: dryRun ? 'render dry run' : 'render', options,
    });
  }

  /** The job; once completed its `outputUrl` is signed afresh on each call. */
  async get(renderId: string, options?: RequestOptions): Promise<RenderJobWithOutput> {
    return this.http.request({
      method: 'GET', path: `/v1/renders/${this.id('renderId', renderId)}`,
      responseSchema: zRendersRetrieveResponse, what: 'render', options,
    });
  }

  /** A project's renders, newest first: await for one page, or `for await` over all. Filters: status, templateId. */
  list(projectId: string, params?: RenderListParams, options?: RequestOptions): PagePromise<RenderJob> {
    return this.paginate(
      () => `/v1/projects/${this.id('projectId', projectId)}/renders`, params, zProjectsRendersListQuery,
      zProjectsRendersListResponse, 'render list', options,
    );
  }

  /** Cancels a `pending` or `queued` job (409 render_not_cancellable otherwise). */
  async cancel(renderId: string, options?: RequestOptions): Promise<RenderJobWithOutput> {
    return this.http.request({
      method: 'DELETE', path: `/v1/renders/${this.id('renderId', renderId)}`,
      responseSchema: zRendersDestroyResponse, what: 'render', options,
    });
  }

  /**
   * Follows the job's Server-Sent Events stream: yields the job at each state or progress change, starting
   * with its current state, and ends after a final status. When the server closes a long stream, the
   * connection breaks or an event arrives cut, it reconnects with Last-Event-ID; after `maxRetries`
   * connections in a row without news it gives up with a RenderowlConnectionError (`wait` then polls).
   */
  async *stream(renderId: string, options: StreamOptions = {}): AsyncGenerator<RenderJobWithOutput> {
    let lastEventId = options.lastEventId;
    const url = this.http.url(`/v1/renders/${this.id('renderId', renderId)}/events`);
    let quiet = 0; // connections in a row that ended or broke without a new event
    for (;;) {
      const headers: Record<string, string> = {Accept: 'text/event-stream'};
      if (lastEventId) headers['Last-Event-ID'] = lastEventId;
      const response = await this.http.send(url, {method: 'GET', headers}, {signal: options.signal}, true, {streaming: true});
      if (response.status === 204 || !response.body) return; // the final state was already sent
      if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
        await response.body.cancel();
        throw new RenderowlError(`Expected an event stream, got ${response.headers.get('content-type')}.`, {
          status: response.status, code: 'not_an_event_stream', requestId: response.headers.get('x-request-id'),
        });
      }
      quiet += 1;
      let broken: unknown;
      try {
        for await (const event of parseEventStream(response.body)) {
          const job = validateResponse<RenderJobWithOutput>(
            zRendersRetrieveResponse, eventJob(event.data), this.http.responseValidation, 'render event',
          );
          if (event.id) lastEventId = event.id;
          quiet = 0;
          yield job;
          if (FINAL_RENDER_STATUSES.has(job.status)) return;
        }
      } catch (error) {
        // A strict-mode mismatch is the caller's to see; a reset connection or a cut event is resumed.
        if (options.signal?.aborted || error instanceof RenderowlError) throw options.signal?.reason ?? error;
        broken = error;
      }
      if (quiet > this.http.maxRetries) {
        const reason = broken instanceof Error ? `: ${broken.message}` : ' without news';
        throw new RenderowlConnectionError(
          `The event stream of ${renderId} kept breaking off${reason}; get or wait for the render instead.`,
          {code: 'stream_interrupted', cause: broken},
        );
      }
      await sleep(quiet ? this.http.backoff(quiet - 1) : RECONNECT_DELAY_MS, options.signal);
    }
  }

  /**
   * Resolves with the job once it is `completed`, `failed` or `cancelled` (check `status`), calling
   * `onProgress` on the way. Follows the event stream, and polls when streams are unavailable.
   */
  async wait(renderId: string, options: RenderWaitOptions = {}): Promise<RenderJobWithOutput> {
    const {onProgress, timeout = 30 * 60_000, pollInterval = 1000} = options;
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new RenderowlTimeoutError(`Render ${renderId} did not finish within ${timeout} ms.`, {code: 'wait_timeout'})),
      timeout,
    );
    const onAbort = () => controller.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, {once: true});
    const signal = controller.signal;
    try {
      try {
        for await (const job of this.stream(renderId, {signal})) {
          onProgress?.(job);
          if (FINAL_RENDER_STATUSES.has(job.status)) return job;
        }
      } catch (error) {
        // No event store (503), too many streams (429), a dropped stream: poll instead. Polling meets any
        // lasting fault (a 404, a bad key) itself and reports it.
        if (signal.aborted) throw error;
      }
      for (;;) {
        const job = await this.get(renderId, {signal});
        onProgress?.(job);
        if (FINAL_RENDER_STATUSES.has(job.status)) return job;
        await sleep(pollInterval, signal);
      }
    } catch (error) {
      if (signal.aborted && signal.reason instanceof RenderowlTimeoutError) throw signal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Downloads a completed job's output through a freshly signed URL; returns the Response to read or pipe. */
  async download(renderId: string, options?: RequestOptions): Promise<Response> {
    const job = await this.get(renderId, options);
    if (!job.outputUrl) {
      throw new RenderowlError(
        `Render ${renderId} has no output to download (status ${job.status}${job.outputDeletedAt ? ', output deleted' : ''}).`,
        {code: 'output_unavailable'},
      );
    }
    return this.http.send(job.outputUrl, {method: 'GET', headers: {}}, options, false, {streaming: true});
  }
}
