import { describe, expect, it } from 'vitest';
import { chain, chord, chunks, group, map, starmap } from '../src/canvas.js';
import { TaskFailedError } from '../src/errors.js';
import { GroupResult } from '../src/group-result.js';
import { parseJson } from '../src/json.js';
import { Signature } from '../src/signature.js';
import { traceTask } from '../src/task-trace.js';
import { createTestApp } from '../src/testing/test-app.js';
import { drain, fixture, redisWire } from './helpers.js';

const eagerApp = () => createTestApp({ taskAlwaysEager: true });

function mathApp(app = eagerApp()) {
  const add = app.task('interop.add', (a: number, b: number) => a + b);
  const mul = app.task('math.mul', (a: number, b: number) => a * b);
  const echo = app.task('interop.echo', <T>(v: T) => v);
  const fail = app.task('math.fail', (message: string): number => {
    throw new RangeError(message);
  });
  const record: unknown[][] = [];
  const spy = app.task('math.spy', (...args: unknown[]) => {
    record.push(args);
    return args;
  });
  return { app, add, mul, echo, fail, spy, record };
}

describe('signatures', () => {
  it('serialise as Celery signature dicts, options in snake_case', () => {
    const { add, echo } = mathApp();
    const sig = add.s(10).set({ taskId: 'id-1', queue: 'q', countdown: 5, softTimeLimit: 3 }).link(echo.s()).onError(echo.si('x'));
    expect(sig.toDict()).toEqual({
      task: 'interop.add',
      args: [10],
      kwargs: {},
      options: {
        task_id: 'id-1',
        queue: 'q',
        countdown: 5,
        soft_time_limit: 3,
        link: [{ task: 'interop.echo', args: [], kwargs: {}, options: {}, subtask_type: null, immutable: false }],
        link_error: [{ task: 'interop.echo', args: ['x'], kwargs: {}, options: {}, subtask_type: null, immutable: true }],
      },
      subtask_type: null,
      immutable: false,
    });
  });

  it('parse back from a dict built by Python, keeping options taskq does not model', () => {
    const dict = {
      task: 'interop.add',
      args: [10],
      kwargs: {},
      options: { task_id: 'abc', reply_to: 'r-1', link_error: { task: 'interop.echo', args: [], kwargs: {}, options: {}, subtask_type: null, immutable: false } },
      subtask_type: null,
      immutable: false,
    };
    const sig = Signature.fromDict(dict);
    expect(sig.options.taskId).toBe('abc');
    expect(sig.options.linkError?.[0]?.task).toBe('interop.echo');
    expect(sig.toDict()).toEqual({ ...dict, options: { ...dict.options, link_error: [dict.options.link_error] } });
  });

  it('prepend the given arguments unless immutable', async () => {
    const { spy, record } = mathApp();
    await spy.s('b').delay('a');
    await spy.si('b').delay('a');
    expect(record).toEqual([['a', 'b'], ['b']]);
  });
});

describe('chain (eager)', () => {
  it("passes each step's result as the first argument of the next; the result is the last step's", async () => {
    const { add, mul } = mathApp();
    const result = await chain(add.s(1, 2), mul.s(10), add.s(5)).applyAsync();
    expect(await result.get()).toBe(35);
  });

  it("links each step's result to the one before it (result.parent), as Celery does", async () => {
    const { app, add, mul } = mathApp();
    const result = await chain(add.s(1, 2), mul.s(10), add.s(5)).applyAsync();
    expect(await result.get()).toBe(35);
    expect(await result.parent?.get()).toBe(30);
    expect(await result.parent?.parent?.get()).toBe(3);
    expect(result.parent?.parent?.parent).toBeUndefined();
    // Each parent is the previous step's task: its own id, stored under it.
    const ids = [result.id, result.parent?.id, result.parent?.parent?.id];
    expect(new Set(ids).size).toBe(3);
    // A handle made from an id knows no parent (nor does Celery's).
    expect(app.AsyncResult(result.id).parent).toBeUndefined();
  });

  it('pipe() builds the same chain', async () => {
    const { add, mul } = mathApp();
    expect(await (await add.s(1, 2).pipe(mul.s(3)).applyAsync()).get()).toBe(9);
  });

  it('does not prepend to an immutable step', async () => {
    const { add, spy, record } = mathApp();
    await (await chain(add.s(1, 2), spy.si('alone')).applyAsync()).get();
    expect(record).toEqual([['alone']]);
  });

  it('stops at a failing step, fails the steps after it and runs link_error with the failed task id', async () => {
    const { add, fail, mul, spy, record } = mathApp();
    const result = await chain(add.s(1, 2), fail.si('boom'), mul.s(2)).onError(spy.s()).applyAsync();
    const error = await result.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect((error as TaskFailedError).excType).toBe('RangeError');
    expect(record).toHaveLength(1);
    expect(typeof record[0]?.[0]).toBe('string');
  });
});

describe('link / link_error (eager)', () => {
  it('applies callbacks with the result prepended', async () => {
    const { add, spy, record } = mathApp();
    await add.s(2, 3).link(spy.s('after')).delay();
    expect(record).toEqual([[5, 'after']]);
  });

  it('applies errbacks with the failed task id', async () => {
    const { fail, spy, record } = mathApp();
    const result = await fail.s('x').onError(spy.s()).delay();
    expect(record).toEqual([[result.id]]);
  });
});

describe('group (eager)', () => {
  it('collects the results in order, with counts and states', async () => {
    const { add, mul } = mathApp();
    const result = await group([add.s(1, 1), mul.s(3, 3), add.s(2, 2)]).applyAsync();
    expect(await result.get()).toEqual([2, 9, 4]);
    expect(await result.completedCount()).toBe(3);
    expect(await result.ready()).toBe(true);
    expect(await result.successful()).toBe(true);
    expect(await result.failed()).toBe(false);
  });

  it('reports a failed member', async () => {
    const { add, fail } = mathApp();
    const result = await group([add.s(1, 1), fail.s('no')]).applyAsync();
    expect(await result.failed()).toBe(true);
    expect(await result.completedCount()).toBe(1);
    await expect(result.get()).rejects.toBeInstanceOf(TaskFailedError);
  });

  it('saves and restores by id', async () => {
    const { app, add } = mathApp(createTestApp());
    const result = await group([add.s(1, 1), add.s(2, 2)]).applyAsync();
    await result.save();
    const again = await GroupResult.restore(app, result.id);
    expect(again?.results.map((r) => r.id)).toEqual(result.results.map((r) => r.id));
    await result.delete();
    expect(await GroupResult.restore(app, result.id)).toBeUndefined();
  });
});

describe('chord (eager)', () => {
  it('calls the body with the header results in header order', async () => {
    const { add, echo } = mathApp();
    const result = await chord([add.s(3, 3), add.s(4, 4), add.s(1, 0)], echo.s()).applyAsync();
    expect(await result.get()).toEqual([6, 8, 1]);
  });

  it('calls the body with [] for an empty header', async () => {
    const { echo } = mathApp();
    expect(await (await chord([], echo.s()).applyAsync()).get()).toEqual([]);
  });

  it('fails the body with ChordError naming the failed member', async () => {
    const { add, fail, echo } = mathApp();
    const result = await chord([add.s(1, 1), fail.s('boom')], echo.s()).applyAsync();
    const error = (await result.get().catch((e: unknown) => e)) as TaskFailedError;
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error.excType).toBe('ChordError');
    expect(error.excModule).toBe('celery.exceptions');
    expect(String(error.excMessage[0])).toMatch(/^Dependency [0-9a-f-]{36} raised RangeError\('boom'\)$/);
  });
});

describe('map, starmap, chunks (eager)', () => {
  it('map runs the task on each item in one task', async () => {
    const { echo } = mathApp();
    expect(await (await map(echo.s(), [1, 'a', null]).delay()).get()).toEqual([1, 'a', null]);
  });

  it('starmap spreads each item as arguments', async () => {
    const { add } = mathApp();
    expect(await (await starmap(add.s(), [[1, 2], [3, 4]]).delay()).get()).toEqual([3, 7]);
  });

  it('chunks sends one starmap per chunk', async () => {
    const { add } = mathApp();
    const result = await chunks(add.s(), [[1, 1], [2, 2], [3, 3]], 2).applyAsync();
    expect(result.results).toHaveLength(2);
    expect(await result.get()).toEqual([[2, 4], [6]]);
  });

  it('celery.chunks sent as one task sends the group from the worker', async () => {
    const { add } = mathApp();
    const result = await chunks(add.s(), [[1, 1], [2, 2], [3, 3]], 1).toSignature().delay();
    const [[groupId], members] = (await result.get()) as [[string], [[string]][]];
    expect(typeof groupId).toBe('string');
    expect(members).toHaveLength(3);
  });
});

describe('wire format (as Celery 5.2 sends it)', () => {
  /** The embed of a message as Celery wrote it. */
  const celeryBody = (name: string) => parseJson(redisWire(name).body) as [unknown[], Record<string, unknown>, Record<string, unknown>];

  it("a chain's first message carries the rest, reversed, with ids; headers as Celery's", async () => {
    const { app, add } = mathApp(createTestApp());
    const celery = fixture<{ headers: Record<string, unknown> }>('redis-task-v2-chain-first.json');
    const [cArgs, cKwargs, cEmbed] = celeryBody('redis-task-v2-chain-first.json');
    const result = await chain(add.s(1, 2), add.s(10)).applyAsync();
    const [d] = await drain(app, 'celery');
    const m = d!.message;
    expect(m.body[0]).toEqual(cArgs);
    expect(m.body[1]).toEqual(cKwargs);
    expect(Object.keys(m.body[2])).toEqual(Object.keys(cEmbed));
    const step = m.body[2].chain?.[0];
    const cStep = (cEmbed.chain as Record<string, unknown>[])[0]!;
    expect(Object.keys(step!).sort()).toEqual(Object.keys(cStep).sort());
    expect(step).toMatchObject({ task: 'interop.add', args: [10], kwargs: {}, subtask_type: null, immutable: false });
    expect(Object.keys(step!.options).sort()).toEqual(Object.keys(cStep.options as object).sort());
    expect(step!.options.task_id).toBe(result.id);
    expect(step!.options.reply_to).toBe(app.oid);
    expect(Object.keys(m.headers)).toEqual(Object.keys(celery.headers));
    expect(m.headers.root_id).toBe(m.headers.id);
    expect(m.headers.parent_id).toBeNull();
    expect(m.headers.argsrepr).toBe(celery.headers.argsrepr);
  });

  it('the worker sends the next step as Celery does (chain-second fixture): result prepended, parent/root ids, chain []', async () => {
    const { app, add } = mathApp(createTestApp());
    const celery = fixture<{ headers: Record<string, unknown> }>('redis-task-v2-chain-second.json');
    const [cArgs, , cEmbed] = celeryBody('redis-task-v2-chain-second.json');
    const result = await chain(add.s(1, 2), add.s(10)).applyAsync();
    const [first] = await drain(app, 'celery');
    await traceTask(app, first!.message, { hostname: 'test@wire' });
    const [second] = await drain(app, 'celery');
    const m = second!.message;
    expect(m.headers.id).toBe(result.id);
    expect(m.body[0]).toEqual(cArgs);
    expect(m.body[2]).toEqual(cEmbed);
    expect(Object.keys(m.headers)).toEqual(Object.keys(celery.headers));
    expect(m.headers.parent_id).toBe(first!.message.headers.id);
    expect(m.headers.root_id).toBe(first!.message.headers.id);
    expect(m.headers.argsrepr).toBe(celery.headers.argsrepr);
  });

  it('orders a longer chain last-step-first in the embed', async () => {
    const { app, add, mul, echo } = mathApp(createTestApp());
    await chain(add.s(1, 2), mul.s(2), echo.s()).applyAsync();
    const [d] = await drain(app, 'celery');
    expect(d!.message.body[2].chain?.map((s) => s.task)).toEqual(['interop.echo', 'math.mul']);
  });

  it('chord header members carry group, group_index and the callback; the size is recorded first', async () => {
    const { app, add, echo } = mathApp(createTestApp());
    const celery = fixture<{ headers: Record<string, unknown> }>('redis-task-v2-chord-header-member.json');
    const [, , cEmbed] = celeryBody('redis-task-v2-chord-header-member.json');
    const result = await chord([add.s(3, 3), add.s(4, 4)], echo.s()).applyAsync();
    const ds = await drain(app, 'celery', 2);
    const [first, second] = ds.map((d) => d.message);
    expect(Object.keys(first!.headers)).toEqual(Object.keys(celery.headers));
    expect(first!.headers.group).toBe(second!.headers.group);
    expect([first!.headers.group_index, second!.headers.group_index]).toEqual([0, 1]);
    expect(first!.body[0]).toEqual([3, 3]);
    const cb = first!.body[2].chord!;
    const cCb = cEmbed.chord as Record<string, unknown>;
    expect(Object.keys(cb).sort()).toEqual(Object.keys(cCb).sort());
    expect(Object.keys(cb.options).sort()).toEqual(Object.keys(cCb.options as object).sort());
    expect(cb).toMatchObject({ task: 'interop.echo', args: [], kwargs: {}, subtask_type: null, immutable: false });
    expect(cb.options.task_id).toBe(result.id);
    expect(first!.body[2].chain).toBeNull();
  });

  it('group members carry the group id and a null group_index', async () => {
    const { app, add } = mathApp(createTestApp());
    const celery = fixture<{ headers: Record<string, unknown> }>('redis-task-v2-group-member.json');
    const result = await group([add.s(1, 1), add.s(2, 2)]).applyAsync();
    const ds = await drain(app, 'celery', 2);
    for (const d of ds) {
      expect(Object.keys(d.message.headers)).toEqual(Object.keys(celery.headers));
      expect(d.message.headers.group).toBe(result.id);
      expect(d.message.headers.group_index).toBeNull();
      expect(d.message.headers.root_id).toBe(d.message.headers.id);
      expect(d.message.body[2]).toEqual(celeryBody('redis-task-v2-group-member.json')[2]);
    }
  });

  it('saves a group as Celery does (celery-taskset-meta value)', async () => {
    const { app, add } = mathApp(createTestApp());
    const result = await group([add.s(1, 1), add.s(2, 2)]).applyAsync();
    await result.save();
    const saved = await (await app.getBackend()).restoreGroup?.(result.id);
    const celery = fixture<{ value: { result: [[string, null], [[string, null], null][]] } }>('result-redis-taskset-meta.json');
    expect(saved).toEqual({ result: [[result.id, null], result.results.map((r) => [[r.id, null], null])] });
    expect(Object.keys(saved!)).toEqual(Object.keys(celery.value));
  });
});
