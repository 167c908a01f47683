import { describe, expectTypeOf, it } from 'vitest';
import type { AsyncResult } from '../src/async-result.js';
import { chain, chord, group } from '../src/canvas.js';
import type { GroupResult } from '../src/group-result.js';
import { createTestApp } from '../src/testing/test-app.js';

const app = createTestApp();
const add = app.task('add', (a: number, b: number) => a + b);
const toText = app.task('text', (n: number) => `n=${n}`);
const shout = app.task('shout', (s: string) => s.toUpperCase());
const merge = app.task('merge', (parts: number[]) => parts.reduce((a, b) => a + b, 0));
const tick = app.task('tick', () => 'tick');

describe('workflow types', () => {
  it("a chain's result type is the last step's", () => {
    expectTypeOf(chain(add.s(1, 2), toText.s(), shout.s()).applyAsync()).toEqualTypeOf<Promise<AsyncResult<string>>>();
    expectTypeOf(add.s(1, 2).pipe(toText.s()).applyAsync()).toEqualTypeOf<Promise<AsyncResult<string>>>();
  });

  it('refuses a step whose first parameter does not take the previous result', () => {
    // @ts-expect-error shout takes a string, add returns a number
    chain(add.s(1, 2), shout.s());
    // @ts-expect-error the third step gets toText's string
    chain(add.s(1, 2), toText.s(), add.s(1));
    // @ts-expect-error pipe checks the same way
    add.s(1, 2).pipe(shout.s());
  });

  it('accepts an immutable step whatever came before', () => {
    expectTypeOf(chain(add.s(1, 2), shout.si('x')).applyAsync()).toEqualTypeOf<Promise<AsyncResult<string>>>();
    chain(add.s(1, 2), tick.si());
  });

  it('a group result is the tuple of its members’ results', () => {
    expectTypeOf(group([add.s(1, 2), toText.s(3)]).applyAsync()).toEqualTypeOf<Promise<GroupResult<[number, string]>>>();
  });

  it("a chord body must take the header's results", () => {
    expectTypeOf(chord([add.s(1, 2), add.s(3, 4)], merge.s()).applyAsync()).toEqualTypeOf<Promise<AsyncResult<number>>>();
    // @ts-expect-error shout takes a string, not the header's number results
    chord([add.s(1, 2)], shout.s());
  });
});
