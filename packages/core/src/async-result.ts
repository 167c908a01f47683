/** A handle on a task's result, read from the app's result backend. */
import { TimeoutError } from './errors.js';
import { errorFromMeta } from './exception-info.js';
import { READY_STATES, type ResultBackend, type ResultMeta, type TaskState } from './result-backend.js';

export interface ResultSource {
  getBackend(): Promise<ResultBackend>;
}

export interface GetOptions {
  /** Milliseconds to wait for a ready state; throws {@link TimeoutError} after. Default: wait forever. */
  timeout?: number;
  /** Throw the task's failure (default true). With false, the error is returned instead. */
  propagate?: boolean;
  signal?: AbortSignal;
}

/**
 * `AsyncResult<T>` is what `delay()`/`applyAsync()` return. `get()` waits for
 * the result without polling where the backend can (Redis pub/sub, memory
 * events). `state`, `result` and `traceback` read the backend each time, so
 * they are promises: `await result.state`.
 */
export class AsyncResult<T = unknown> {
  constructor(
    readonly id: string,
    private readonly source: ResultSource,
    /**
     * The result of the step before this one, when this handle came from
     * sending a chain (Celery's `AsyncResult.parent`): `(await chain.applyAsync()).parent`
     * is the second-to-last step. Undefined for the first step and for a handle
     * made from an id (`app.AsyncResult(id)`), as in Celery.
     */
    readonly parent?: AsyncResult<unknown>,
  ) {}

  /** Wait for the task and return its value; rethrows the task's failure (type name, message, remote traceback). */
  async get(options: GetOptions = {}): Promise<T> {
    const backend = await this.source.getBackend();
    options.signal?.throwIfAborted();
    const timeoutMs = options.timeout ?? Number.POSITIVE_INFINITY;
    let meta: ResultMeta;
    try {
      meta = await backend.wait(this.id, { timeoutMs, signal: options.signal });
    } catch (error) {
      if (error instanceof TimeoutError) {
        throw new TimeoutError(`task ${this.id} was not ready after ${timeoutMs} ms (it may still run; call get() again to keep waiting)`);
      }
      throw error;
    }
    if (meta.status === 'SUCCESS') return meta.result as T;
    const error = errorFromMeta(meta);
    if (options.propagate === false) return error as unknown as T;
    throw error;
  }

  /** The stored meta, or undefined while PENDING. */
  async meta(): Promise<ResultMeta | undefined> {
    return (await this.source.getBackend()).get(this.id);
  }

  get state(): Promise<TaskState> {
    return this.meta().then((m) => m?.status ?? 'PENDING');
  }

  /** The return value when SUCCESS, the failure as an Error when FAILURE/REVOKED, else undefined. */
  get result(): Promise<T | Error | undefined> {
    return this.meta().then((m) => {
      if (!m) return undefined;
      if (m.status === 'SUCCESS') return m.result as T;
      if (m.status === 'FAILURE' || m.status === 'REVOKED') return errorFromMeta(m);
      return undefined;
    });
  }

  get traceback(): Promise<string | null> {
    return this.meta().then((m) => m?.traceback ?? null);
  }

  async ready(): Promise<boolean> {
    return READY_STATES.has(await this.state);
  }

  async successful(): Promise<boolean> {
    return (await this.state) === 'SUCCESS';
  }

  async failed(): Promise<boolean> {
    return (await this.state) === 'FAILURE';
  }

  /** Remove the stored result. */
  async forget(): Promise<void> {
    await (await this.source.getBackend()).forget(this.id);
  }

  toString(): string {
    return this.id;
  }
}
