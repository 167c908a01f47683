import { describe, expect, it } from 'vitest';
import { Fifo } from '../src/fifo.js';

describe('Fifo', () => {
  it('takes items in the order they were pushed, across its compactions, and puts a returned item first', () => {
    const q = new Fifo<number>();
    for (let i = 0; i < 5000; i++) q.push(i);
    const out: number[] = [];
    for (let i = 0; i < 3000; i++) out.push(q.shift()!);
    q.unshift(-1);
    for (let i = 5000; i < 6000; i++) q.push(i);
    expect(q.length).toBe(3001);
    for (let x = q.shift(); x !== undefined; x = q.shift()) out.push(x);
    expect(out).toEqual([...Array.from({ length: 3000 }, (_, i) => i), -1, ...Array.from({ length: 3000 }, (_, i) => i + 3000)]);
    expect(q.length).toBe(0);
    q.unshift(7);
    expect(q.shift()).toBe(7);
    expect(q.shift()).toBeUndefined();
  });
});
