/**
 * The dashboard's one HTML page, served as a string: no build step for the
 * front end and nothing fetched from a CDN. The script is `/app.js` (client.ts).
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>taskq dashboard</title>
<style>
  :root { --fg: #1d2330; --muted: #6b7385; --line: #e3e6ec; --bg: #f6f7f9; --ok: #1a7f37; --bad: #c62828; --warn: #b26a00; --run: #0b5cad; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; align-items: center; gap: 24px; padding: 10px 20px; background: #1d2330; color: #fff; }
  header h1 { font-size: 16px; margin: 0; font-weight: 600; }
  header nav a { color: #c9d1e3; text-decoration: none; margin-right: 16px; }
  header nav a.current { color: #fff; font-weight: 600; border-bottom: 2px solid #fff; }
  #conn { margin-left: auto; font-size: 12px; color: #c9d1e3; }
  #ro { font-size: 12px; background: #b26a00; padding: 2px 6px; border-radius: 3px; }
  main { padding: 16px 20px; max-width: 1400px; }
  section.card { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; margin-bottom: 16px; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  .totals span { margin-right: 18px; color: var(--muted); }
  .totals b { color: var(--fg); }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
  td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  td.args { max-width: 280px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .state { font-weight: 600; font-size: 12px; }
  .state.SUCCESS { color: var(--ok); } .state.FAILURE, .state.REJECTED { color: var(--bad); }
  .state.REVOKED, .state.RETRY { color: var(--warn); } .state.STARTED, .state.RECEIVED { color: var(--run); }
  .online { color: var(--ok); font-weight: 600; } .offline { color: var(--bad); font-weight: 600; }
  button { font: inherit; font-size: 12px; padding: 2px 8px; border: 1px solid #b8bfcc; border-radius: 4px; background: #fff; cursor: pointer; }
  button:hover:not(:disabled) { background: #eef1f6; }
  button:disabled { opacity: .45; cursor: not-allowed; }
  button.danger { border-color: #e0a3a3; color: var(--bad); }
  .filters { display: flex; gap: 8px; margin-bottom: 8px; }
  input, select { font: inherit; font-size: 13px; padding: 3px 6px; border: 1px solid #b8bfcc; border-radius: 4px; }
  pre { background: #f3f4f7; padding: 8px; border-radius: 4px; overflow: auto; max-height: 400px; font-size: 12px; }
  dl { display: grid; grid-template-columns: 140px 1fr; gap: 4px 12px; margin: 0; }
  dt { color: var(--muted); } dd { margin: 0; font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
  .legend span { margin-right: 14px; font-size: 12px; } .legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
  #toast { position: fixed; right: 16px; bottom: 16px; background: #1d2330; color: #fff; padding: 8px 12px; border-radius: 4px; display: none; max-width: 420px; }
  .empty { color: var(--muted); padding: 8px; }
  a { color: var(--run); }
</style>
</head>
<body>
<header>
  <h1>taskq dashboard</h1>
  <nav>
    <a href="#/workers" data-view="workers">Workers</a>
    <a href="#/tasks" data-view="tasks">Tasks</a>
    <a href="#/queues" data-view="queues">Queues</a>
  </nav>
  <span id="ro" hidden>read-only</span>
  <span id="conn">connecting…</span>
</header>
<main>
  <section class="card">
    <div class="totals" id="totals"></div>
    <h2 style="margin-top:8px">Throughput <span class="legend"><span><i style="background:#1a7f37"></i>succeeded/s</span><span><i style="background:#c62828"></i>failed/s</span></span></h2>
    <div id="chart"></div>
  </section>
  <section class="card" id="view-workers" hidden>
    <h2>Workers</h2>
    <div id="workers"></div>
    <h2 style="margin-top:16px">Rate limit</h2>
    <form id="rate-form" class="filters">
      <input id="rate-task" placeholder="task name" required>
      <input id="rate-value" placeholder="e.g. 10/m (empty: none)">
      <select id="rate-worker"><option value="">all workers</option></select>
      <button type="submit" data-action="rate-limit">Set rate limit</button>
    </form>
  </section>
  <section class="card" id="view-tasks" hidden>
    <h2>Tasks</h2>
    <div class="filters">
      <select id="filter-state">
        <option value="">any state</option>
        <option>PENDING</option><option>RECEIVED</option><option>STARTED</option><option>SUCCESS</option>
        <option>FAILURE</option><option>RETRY</option><option>REVOKED</option><option>REJECTED</option>
      </select>
      <input id="filter-name" placeholder="filter by name">
    </div>
    <div id="tasks"></div>
  </section>
  <section class="card" id="view-queues" hidden>
    <h2>Queues</h2>
    <div id="queues"></div>
  </section>
  <section class="card" id="view-task" hidden>
    <h2>Task <span class="mono" id="task-id"></span></h2>
    <div id="task"></div>
  </section>
</main>
<div id="toast" role="status"></div>
<script type="module" src="/app.js"></script>
</body>
</html>
`;
