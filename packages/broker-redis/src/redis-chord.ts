/**
 * Groups and chords in Redis exactly as Celery's Redis result backend keeps
 * them (celery-protocol.md §4.3), so a chord whose header runs partly on
 * Python and partly on taskq fires once:
 * - `celery-taskset-meta-<gid>`: a saved GroupResult (SETEX + PUBLISH);
 * - `<that>.s`: the chord size, set by the sender;
 * - `<that>.j`: a sorted set of `[1, task_id, state, result]` scored by group_index;
 * - `<that>.t`: extra size added to a running chord (absent normally).
 * The member whose ZADD makes ZCARD(.j) reach size + t reads the parts and
 * deletes the keys; it sends the callback.
 */
import { type ChordPart, type ChordPartOutcome, type ChordPartResult, GROUP_KEY_PREFIX, type GroupMeta, parseJson, stringifyJson, type TaskState } from '@taskq/core';
import type { Redis } from 'ioredis';

/** The key of a saved group (Celery's `get_key_for_group`). */
export function groupKey(groupId: string, suffix = ''): string {
  return `${GROUP_KEY_PREFIX}${groupId}${suffix}`;
}

/** A `.j` member as Celery's json.dumps writes it (`[1, "<id>", "SUCCESS", 6]`), so the same part is never counted twice. */
export function encodeChordPart(part: ChordPart): string {
  return `[1, ${stringifyJson(part.taskId)}, ${stringifyJson(part.state)}, ${stringifyJson(part.result ?? null, 'chord part result')}]`;
}

function decodeChordPart(text: string): ChordPartResult {
  const [, taskId, state, result] = parseJson(text, 'chord part') as [number, string, TaskState, unknown];
  return { taskId, state, result };
}

/** Record the chord size before the header is sent (SETEX `.s`; SET when results never expire). */
export async function setChordSize(client: Redis, ttl: number, groupId: string, size: number): Promise<void> {
  if (ttl > 0) await client.setex(groupKey(groupId, '.s'), ttl, String(size));
  else await client.set(groupKey(groupId, '.s'), String(size));
}

/** Count one finished header member; the call that completes the chord gets the parts in group_index order. */
export async function chordPartReturn(client: Redis, ttl: number, part: ChordPart): Promise<ChordPartOutcome> {
  const jkey = groupKey(part.groupId, '.j');
  const tkey = groupKey(part.groupId, '.t');
  const skey = groupKey(part.groupId, '.s');
  const score = part.groupIndex === null ? '+inf' : String(part.groupIndex);
  const multi = client.multi().zadd(jkey, score, encodeChordPart(part)).zcount(jkey, '-inf', '+inf').get(tkey).get(skey);
  if (ttl > 0) multi.expire(jkey, ttl).expire(tkey, ttl).expire(skey, ttl);
  const replies = (await multi.exec()) ?? [];
  for (const [error] of replies) if (error) throw error;
  const ready = Number(replies[1]?.[1]);
  const extra = Number(replies[2]?.[1] ?? 0) || 0;
  const size = replies[3]?.[1];
  if (size === null || size === undefined) return { complete: false };
  if (ready !== Number(size) + extra) return { complete: false };
  const members = await client.zrange(jkey, 0, -1);
  await client.multi().del(jkey).del(tkey).del(skey).exec();
  return { complete: true, parts: members.map(decodeChordPart) };
}

/** Save a group (Celery's `_save_group`: SETEX + PUBLISH on the same name). */
export async function saveGroup(client: Redis, ttl: number, groupId: string, meta: GroupMeta): Promise<void> {
  const key = groupKey(groupId);
  const text = stringifyJson(meta, 'group meta');
  const multi = ttl > 0 ? client.multi().setex(key, ttl, text) : client.multi().set(key, text);
  await multi.publish(key, text).exec();
}

export async function restoreGroup(client: Redis, groupId: string): Promise<GroupMeta | undefined> {
  const text = await client.get(groupKey(groupId));
  return text === null ? undefined : (parseJson(text, 'group meta') as GroupMeta);
}

export async function deleteGroup(client: Redis, groupId: string): Promise<void> {
  await client.del(groupKey(groupId));
}
