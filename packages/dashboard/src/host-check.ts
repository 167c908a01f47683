/**
 * Which `Host` headers the dashboard answers: the defence against DNS
 * rebinding. A page on evil.example can re-point its own name at 127.0.0.1;
 * the browser then treats the dashboard as same-origin with that page, so the
 * action header no longer proves anything. The browser still sends
 * `Host: evil.example`, though, and that is what is refused here.
 */
import { isIP } from 'node:net';
import { ConfigError } from '@taskq/core';

/** Where the dashboard listens and which extra names it is reached by. */
export interface HostCheckOptions {
  /** The address the server is bound to, as the socket reports it (e.g. `127.0.0.1`, `::`, `0.0.0.0`). */
  boundAddress: string;
  /** The address as configured, when it differs (e.g. a host name that resolved to `boundAddress`). */
  configuredAddress?: string;
  /** The port the server listens on. */
  port: number;
  /** Further names the dashboard is reached by (a reverse proxy's, a DNS name); see {@link parseAllowedHosts}. */
  allowedHosts?: readonly AllowedHost[];
}

/** One parsed `allowedHosts` entry. */
export interface AllowedHost {
  /** Lower-case name or IP address (IPv6 without brackets). */
  name: string;
  /** Only this port, or any when undefined. */
  port: number | undefined;
}

/** The outcome of {@link createHostCheck}: the predicate, and whether it lets every Host through. */
export interface HostCheck {
  /** Whether a request with this `Host` header may be answered. */
  allows(host: string | undefined): boolean;
  /** True when bound to every interface with no allow-list: any Host is answered (the caller should warn). */
  readonly anyHost: boolean;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1']);
const UNSPECIFIED = new Set(['0.0.0.0', '::']);

/** Parse `allowedHosts` entries (`name`, `name:port`, `[v6]:port`); throws a ConfigError naming a malformed one. */
export function parseAllowedHosts(entries: readonly string[]): AllowedHost[] {
  return entries.map((entry) => {
    const parsed = parseHost(entry);
    if (!parsed) throw new ConfigError(`allowedHosts entry ${JSON.stringify(entry)} is not a host name; use e.g. dash.example.com, dash.example.com:8080 or [::1]:5555`);
    return parsed;
  });
}

/** Build the Host check for a listening dashboard. */
export function createHostCheck(options: HostCheckOptions): HostCheck {
  const bound = normalizeName(options.boundAddress);
  const wildcard = UNSPECIFIED.has(bound);
  const allowed = options.allowedHosts ?? [];
  if (wildcard && allowed.length === 0) return { anyHost: true, allows: () => true };
  const local = new Set([...LOOPBACK, bound]);
  if (options.configuredAddress !== undefined) local.add(normalizeName(options.configuredAddress));
  return {
    anyHost: false,
    allows(header) {
      const host = header === undefined ? undefined : parseHost(header);
      if (!host) return false;
      if (allowed.some((a) => a.name === host.name && (a.port === undefined || a.port === host.port))) return true;
      // No URL without a port reaches a dashboard on another port than 80, so a missing port means 80.
      if ((host.port ?? 80) !== options.port) return false;
      // Bound to every interface, any of the machine's addresses is "the bound address"; an IP literal cannot be rebound.
      return local.has(host.name) || (wildcard && isIP(host.name) !== 0);
    },
  };
}

/** Split `name[:port]` / `[v6][:port]`; undefined when it is not a host. */
function parseHost(value: string): AllowedHost | undefined {
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:[\]/\s@]+))(?::(\d{1,5}))?$/i.exec(value.trim());
  if (!m) return undefined;
  const name = normalizeName(m[1] ?? m[2]!);
  if (m[1] !== undefined && isIP(name) !== 6) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && port > 65535) return undefined;
  return { name, port };
}

/** Lower case, without a fully-qualified name's trailing dot (`localhost.` is `localhost`). */
function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}
