import {RenderowlError} from './errors.js';

/** What every list endpoint answers: one page of items and how to get the next. */
export interface PageData<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

type FetchPage<T> = (cursor: string | undefined) => Promise<PageData<T>>;

/** One page of a list; `nextPage()` fetches the following one, and iterating walks every item from here on. */
export class Page<T> implements PageData<T>, AsyncIterable<T> {
  readonly data: T[];
  readonly hasMore: boolean;
  readonly nextCursor: string | null;
  /** The cursor this page was asked for with (undefined: the first page). */
  readonly cursor: string | undefined;
  readonly #fetchPage: FetchPage<T>;

  constructor(data: PageData<T>, fetchPage: FetchPage<T>, cursor?: string) {
    this.data = data.data;
    this.hasMore = data.hasMore;
    this.nextCursor = data.nextCursor;
    this.cursor = cursor;
    this.#fetchPage = fetchPage;
  }

  /**
   * The next page, or null after the last one. A next cursor equal to this page's own would fetch the same
   * page for ever (a broken proxy or server): that is a RenderowlError `invalid_response`, not an endless loop.
   */
  async nextPage(): Promise<Page<T> | null> {
    if (!this.hasMore || !this.nextCursor) return null;
    if (this.nextCursor === this.cursor) {
      throw new RenderowlError(
        'The API answered a page whose next cursor is the cursor it was asked for; paging would not end.',
        {code: 'invalid_response'},
      );
    }
    return new Page(await this.#fetchPage(this.nextCursor), this.#fetchPage, this.nextCursor);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    let page: Page<T> | null = this;
    while (page) {
      yield* page.data;
      page = await page.nextPage();
    }
  }
}

/**
 * A list call: `await` it for the first page (`data`, `hasMore`, `nextCursor`), or `for await` it to walk
 * every item of every page, fetching each page as the loop reaches it.
 */
export class PagePromise<T> implements PromiseLike<Page<T>>, AsyncIterable<T> {
  readonly #fetchPage: FetchPage<T>;
  readonly #cursor: string | undefined;
  #first: Promise<Page<T>> | undefined;

  constructor(fetchPage: FetchPage<T>, cursor?: string) {
    this.#fetchPage = fetchPage;
    this.#cursor = cursor;
  }

  #page(): Promise<Page<T>> {
    this.#first ??= this.#fetchPage(this.#cursor).then((data) => new Page(data, this.#fetchPage, this.#cursor));
    return this.#first;
  }

  then<A = Page<T>, B = never>(
    onfulfilled?: ((value: Page<T>) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#page().then(onfulfilled, onrejected);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    yield* await this.#page();
  }
}
