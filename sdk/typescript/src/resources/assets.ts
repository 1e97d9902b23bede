import {sleep, type RequestOptions} from '../core.js';
import {RenderowlConflictError, RenderowlTimeoutError, RenderowlValidationError} from '../errors.js';
import type {
  Asset,
  AssetCreateRequest,
  AssetUploadResponse,
  AssetWithDownload,
  PatchedAssetUpdateRequest,
  ProjectsAssetsListData,
} from '../generated/types.gen.js';
import {
  zAssetsPartialUpdateBody,
  zAssetsPartialUpdateResponse,
  zAssetsRetrieveResponse,
  zAssetsUploadCompleteCreateResponse,
  zAssetsUploadUrlCreateResponse,
  zProjectsAssetsCreateBody,
  zProjectsAssetsCreateResponse,
  zProjectsAssetsListQuery,
  zProjectsAssetsListResponse,
} from '../generated/zod.gen.js';
import type {PagePromise} from '../pagination.js';
import {assetTypeFor, contentTypeFor, resolveSource, type UploadSource} from '../upload.js';
import {Resource} from './base.js';

export type AssetListParams = NonNullable<ProjectsAssetsListData['query']>;

export interface WaitOptions {
  /** Give up after this many ms (RenderowlTimeoutError). Default 5 minutes for assets, 30 for renders. */
  timeout?: number;
  /** How often to poll, in ms. Default 1000. */
  pollInterval?: number;
  signal?: AbortSignal;
}

export interface AssetUploadParams {
  /** The bytes: a Blob or File, an ArrayBuffer or Uint8Array, a ReadableStream (with `size`), or a file path (Node). */
  file: UploadSource;
  /** The asset type; by default derived from the content type (`application/json` is a template). */
  type?: AssetCreateRequest['type'];
  /** By default the file's or Blob's name. */
  name?: string;
  /** By default the Blob's type or the one the name's extension suggests. */
  contentType?: AssetCreateRequest['contentType'];
  /** Required for a stream; otherwise read from the source. */
  size?: number;
  description?: string;
  tags?: string[];
  /** Wait until processing ends (`ready` or `failed`) and return the asset then. `true` or wait options. */
  wait?: boolean | WaitOptions;
}

const FINAL_ASSET_STATUSES = new Set(['ready', 'failed']);

/** Assets: files (video, image, audio, font, template) uploaded straight to storage through signed URLs. */
export class Assets extends Resource {
  /** Declares an asset and returns it with its presigned upload (`upload.url`, `method`, `headers`). */
  async create(projectId: string, body: AssetCreateRequest, options?: RequestOptions): Promise<AssetUploadResponse> {
    return this.http.request({
      method: 'POST', path: `/v1/projects/${this.id('projectId', projectId)}/assets`, body,
      bodySchema: zProjectsAssetsCreateBody, responseSchema: zProjectsAssetsCreateResponse, what: 'asset', options,
    });
  }

  /**
   * Uploads a file in one call: creates the asset, PUTs the bytes to its signed URL, confirms the upload,
   * and with `wait` polls until processing is over. Returns the asset (check `status` after a wait).
   */
  async upload(projectId: string, params: AssetUploadParams, options?: RequestOptions): Promise<Asset> {
    const source = await resolveSource(params.file, params.size);
    const name = params.name ?? source.name;
    const contentType = params.contentType ?? source.contentType ?? contentTypeFor(name);
    const type = params.type ?? assetTypeFor(contentType);
    const missing = [
      !name && {field: 'name', message: 'The source has no name: pass name.'},
      !contentType && {field: 'contentType', message: 'Cannot tell the content type: pass contentType.'},
      !type && {field: 'type', message: 'Cannot tell the asset type: pass type.'},
    ].filter((entry): entry is {field: string; message: string} => Boolean(entry));
    if (missing.length) {
      const detail = missing.map((e) => `${e.field}: ${e.message}`).join('; ');
      throw new RenderowlValidationError(`Invalid upload: ${detail}`, {code: 'validation_error', detail, errors: missing});
    }
    const body = {
      type, name, contentType, size: params.size ?? source.size,
      ...(params.description === undefined ? {} : {description: params.description}),
      ...(params.tags === undefined ? {} : {tags: params.tags}),
    } as AssetCreateRequest;
    const created = await this.create(projectId, body, options);
    await this.put(created, source.body, options);
    const completed = await this.complete(created.asset.id, options);
    if (!params.wait) return completed;
    return this.wait(completed.id, params.wait === true ? {} : params.wait);
  }

  /** PUTs bytes to an upload URL with the headers it was signed with (no API key: the URL is the credential). */
  async put(
    created: AssetUploadResponse,
    body: Blob | ArrayBuffer | ArrayBufferView | ReadableStream<Uint8Array>,
    options?: RequestOptions,
  ): Promise<void> {
    const headers: Record<string, string> = {...created.upload.headers};
    const isStream = typeof ReadableStream !== 'undefined' && body instanceof ReadableStream;
    if (!isStream) {
      // fetch sets Content-Length itself from a sized body; a stream needs the signed one sent explicitly.
      for (const key of Object.keys(headers)) if (key.toLowerCase() === 'content-length') delete headers[key];
    }
    const init: RequestInit & {headers: Record<string, string>; duplex?: 'half'} = {
      method: created.upload.method || 'PUT', headers, body: body as BodyInit,
    };
    if (isStream) init.duplex = 'half';
    const {idempotencyKey: _unused, ...putOptions} = options ?? {};
    try {
      const response = await this.http.send(created.upload.url, init, putOptions, false);
      await response.body?.cancel();
    } catch (error) {
      // A retried PUT whose first try was stored after all: the bytes are there, which is what was wanted.
      if (error instanceof RenderowlConflictError && error.code === 'already_uploaded') return;
      throw error;
    }
  }

  /** Confirms the upload: the asset moves to `processing` and a worker checks the file. Safe to repeat. */
  async complete(assetId: string, options?: RequestOptions): Promise<Asset> {
    return this.http.request({
      method: 'POST', path: `/v1/assets/${this.id('assetId', assetId)}/upload-complete`,
      responseSchema: zAssetsUploadCompleteCreateResponse, what: 'asset', options,
    });
  }

  /** A fresh upload URL (15 minutes) for an asset still `pending`. */
  async uploadUrl(assetId: string, options?: RequestOptions): Promise<AssetUploadResponse> {
    return this.http.request({
      method: 'POST', path: `/v1/assets/${this.id('assetId', assetId)}/upload-url`,
      responseSchema: zAssetsUploadUrlCreateResponse, what: 'asset upload', options,
    });
  }

  /** The asset; with `{downloadUrl: true}` also a signed `downloadUrl` (not for a `pending` asset). */
  async get(assetId: string, params?: {downloadUrl?: boolean}, options?: RequestOptions): Promise<AssetWithDownload> {
    return this.http.request({
      method: 'GET', path: `/v1/assets/${this.id('assetId', assetId)}`,
      query: params?.downloadUrl ? {include: 'downloadUrl'} : undefined,
      responseSchema: zAssetsRetrieveResponse, what: 'asset', options,
    });
  }

  /** A project's assets: await for one page, or `for await` over all. Filters: type, status, tag. */
  list(projectId: string, params?: AssetListParams, options?: RequestOptions): PagePromise<Asset> {
    return this.paginate(
      () => `/v1/projects/${this.id('projectId', projectId)}/assets`, params, zProjectsAssetsListQuery,
      zProjectsAssetsListResponse, 'asset list', options,
    );
  }

  async update(assetId: string, body: PatchedAssetUpdateRequest, options?: RequestOptions): Promise<Asset> {
    return this.http.request({
      method: 'PATCH', path: `/v1/assets/${this.id('assetId', assetId)}`, body,
      bodySchema: zAssetsPartialUpdateBody, responseSchema: zAssetsPartialUpdateResponse, what: 'asset', options,
    });
  }

  async delete(assetId: string, options?: RequestOptions): Promise<void> {
    await this.http.request({method: 'DELETE', path: `/v1/assets/${this.id('assetId', assetId)}`, what: 'asset', options});
  }

  /** Polls until the asset is `ready` or `failed` and returns it. */
  async wait(assetId: string, options: WaitOptions = {}): Promise<Asset> {
    const {timeout = 300_000, pollInterval = 1000, signal} = options;
    const deadline = Date.now() + timeout;
    for (;;) {
      const asset = await this.get(assetId, undefined, {signal});
      if (FINAL_ASSET_STATUSES.has(asset.status)) return asset;
      if (Date.now() + pollInterval > deadline) {
        throw new RenderowlTimeoutError(`Asset ${assetId} is still ${asset.status} after ${timeout} ms.`, {code: 'wait_timeout'});
      }
      await sleep(pollInterval, signal);
    }
  }
}
