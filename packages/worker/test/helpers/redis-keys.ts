/** Delete Redis keys a test made, over a bare RESP connection (the worker package has no Redis client). */
import net from 'node:net';

function encode(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** Run commands on `db` of 127.0.0.1:6379; rejects (loudly) when Redis is not there. */
export function redisCommands(db: number, commands: string[][]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(6379, '127.0.0.1');
    let replies = 0;
    const expected = commands.length + 1;
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      const text = chunk.toString();
      if (text.startsWith('-')) reject(new Error(`Redis: ${text.trim()}`));
      // SELECT, PING and DEL answer with one-line replies (+OK, +PONG, :n).
      replies += text.split('\r\n').filter((l) => /^[+\-:]/.test(l)).length;
      if (replies >= expected) {
        socket.end();
        resolve();
      }
    });
    socket.write(encode(['SELECT', String(db)]) + commands.map(encode).join(''));
  });
}
