/** app.signals: typed hooks, called in order; a failing handler is reported and the others still run. */
import { describe, expect, it } from 'vitest';
import { Signals } from '../src/signals.js';

describe('Signals', () => {
  it('calls handlers in registration order and stops after unsubscribe', () => {
    const signals = new Signals();
    const seen: string[] = [];
    const off = signals.on('workerShutdown', ({ hostname }) => void seen.push(`a ${hostname}`));
    signals.on('workerShutdown', () => void seen.push('b'));
    signals.emit('workerShutdown', { hostname: 'w1' });
    off();
    signals.emit('workerShutdown', { hostname: 'w1' });
    expect(seen).toEqual(['a w1', 'b', 'b']);
  });

  it('reports a throwing or rejecting handler and still runs the others', async () => {
    const errors: string[] = [];
    const signals = new Signals((error, signal) => errors.push(`${signal}: ${(error as Error).message}`));
    let ran = false;
    signals.on('workerInit', () => {
      throw new Error('sync bug');
    });
    signals.on('workerInit', async () => {
      throw new Error('async bug');
    });
    signals.on('workerInit', () => {
      ran = true;
    });
    await signals.emitAndWait('workerInit', { hostname: 'w', pool: 'async', concurrency: 1 });
    expect(ran).toBe(true);
    expect(errors).toEqual(['workerInit: sync bug', 'workerInit: async bug']);
  });

  it('once() fires a single time', () => {
    const signals = new Signals();
    let n = 0;
    signals.once('workerShutdown', () => void n++);
    signals.emit('workerShutdown', { hostname: 'w' });
    signals.emit('workerShutdown', { hostname: 'w' });
    expect(n).toBe(1);
  });
});
