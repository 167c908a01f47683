/** Top self-time and inclusive-time functions of a V8 .cpuprofile: `tsx src/summarise-profile.ts file.cpuprofile [n]`. */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { nodes: Node[] };
const top = Number(process.argv[3] ?? 30);
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const total = profile.nodes.reduce((s, n) => s + n.hitCount, 0);
const label = (n: Node): string => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(/^file:\/\/.*\/packages\//, '')}:${n.callFrame.lineNumber + 1}`;
const self = new Map<string, number>();
for (const n of profile.nodes) self.set(label(n), (self.get(label(n)) ?? 0) + n.hitCount);
const incl = new Map<string, number>();
const sub = (n: Node): number => n.hitCount + (n.children ?? []).reduce((s, c) => s + sub(byId.get(c)!), 0);
const walk = (n: Node, stack: Set<string>): void => {
  const l = label(n);
  if (!stack.has(l)) incl.set(l, (incl.get(l) ?? 0) + n.hitCount);
  const next = new Set(stack).add(l);
  for (const c of n.children ?? []) walk(byId.get(c)!, next);
};
void sub;
walk(profile.nodes[0]!, new Set());
const pct = (x: number): string => `${((x / total) * 100).toFixed(1).padStart(5)}%`;
console.log(`samples: ${total}\n-- self --`);
for (const [l, h] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(h), l);
console.log('-- inclusive --');
for (const [l, h] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(h), l);
