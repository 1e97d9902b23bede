import type {z} from 'zod';

import {pathId, type HttpClient, type RequestOptions} from '../core.js';
import {PagePromise, type PageData} from '../pagination.js';

export type ListQuery<Q> = Q extends undefined ? never : NonNullable<Q>;

/** What every resource shares: the HTTP layer and the paging of list endpoints. */
export abstract class Resource {
  protected readonly http: HttpClient;

  constructor(http: HttpClient) {
    this.http = http;
  }

  protected id(name: string, value: unknown): string {
    return encodeURIComponent(pathId(name, value));
  }

  /** A list call whose pages keep the caller's filters and follow `nextCursor`. */
  protected paginate<T, Q extends {cursor?: string | undefined}>(
    path: () => string,
    query: Q | undefined,
    querySchema: z.ZodType,
    responseSchema: z.ZodType,
    what: string,
    options?: RequestOptions,
  ): PagePromise<T> {
    const fetchPage = (cursor: string | undefined) =>
      this.http.request<PageData<T>>({
        method: 'GET',
        path: path(),
        query: {...query, ...(cursor === undefined ? {} : {cursor})},
        querySchema,
        responseSchema,
        what,
        options,
      });
    return new PagePromise<T>(fetchPage, query?.cursor);
  }
}
