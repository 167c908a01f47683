/** Bytes allocated per job by function, from a sampling heap profile: `tsx src/summarise-heap.ts file.heapprofile jobs [n]`. */
import { readFileSync } from 'node:fs';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}
const profile = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { head: HeapNode };
const jobs = Number(process.argv[3] ?? 20_000);
const top = Number(process.argv[4] ?? 30);
const bytes = new Map<string, number>();
let total = 0;
const walk = (n: HeapNode): void => {
  const f = n.callFrame;
  const label = `${f.functionName || '(anon)'} ${f.url.replace(/^.*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(/^file:\/\/.*\/packages\//, '')}:${f.lineNumber + 1}`;
  bytes.set(label, (bytes.get(label) ?? 0) + n.selfSize);
  total += n.selfSize;
  for (const c of n.children) walk(c);
};
walk(profile.head);
console.log(`${(total / jobs).toFixed(0)} bytes allocated per job`);
for (const [label, b] of [...bytes].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(b / jobs).toFixed(0).padStart(6)} B  ${label}`);
