/**
 * `target[key] = value` as a plain own property, also for the key
 * `__proto__` (whose assignment would set the prototype instead and lose the
 * value): for copying decoded JSON and AMQP header tables key by key, where
 * a spread (which defines properties) was too slow.
 */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
