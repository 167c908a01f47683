/**
 * The dashboard's browser script (`/app.js`), plain JavaScript served as a
 * string: no bundler, no framework, no CDN. It renders the views from the
 * snapshots the server pushes over server-sent events, draws the SVG chart,
 * and posts actions after a confirm().
 *
 * Everything from the server is put into the page with textContent (never
 * innerHTML), since task args and results are arbitrary text.
 *
 * Written without template literals, so it can sit in this String.raw literal.
 */
export const CLIENT_JS = String.raw`
const ACTION_HEADER = 'x-taskq-dashboard';
let snap = null;
let view = 'workers';
let taskId = null;

function $(id) { return document.getElementById(id); }

function el(tag, attrs, children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = String(v);
    else if (k === 'onclick') node.addEventListener('click', v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children || []) if (c !== null && c !== undefined) node.append(c);
  return node;
}

function fmtTime(ts) { return ts ? new Date(ts * 1000).toLocaleTimeString() : ''; }
function fmtNum(n, digits) { return n === null || n === undefined ? '' : Number(n).toFixed(digits); }

function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.style.display = 'block';
  clearTimeout(toast.timer);
  toast.timer = setTimeout(function () { t.style.display = 'none'; }, 4000);
}

async function act(question, path, body) {
  if (!window.confirm(question)) return;
  try {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', [ACTION_HEADER]: '1' }, body: JSON.stringify(body || {}) });
    const out = await res.json();
    if (!res.ok) { toast('Refused: ' + out.error); return; }
    const n = (out.replies || []).length;
    toast('Done' + (n ? ' (' + n + ' worker' + (n === 1 ? '' : 's') + ' replied)' : ''));
  } catch (error) {
    toast('Failed: ' + error);
  }
}

function readOnly() { return !snap || snap.readOnly; }

function table(headers, rows, empty) {
  if (rows.length === 0) return el('div', { class: 'empty', text: empty });
  return el('table', {}, [
    el('thead', {}, [el('tr', {}, headers.map(function (h) { return el('th', { text: h }); }))]),
    el('tbody', {}, rows),
  ]);
}

function renderTotals() {
  const t = snap.totals;
  const online = snap.workers.filter(function (w) { return w.online; }).length;
  $('totals').replaceChildren(
    el('span', {}, ['Workers online ', el('b', { text: online + '/' + snap.workers.length })]),
    el('span', {}, ['Active ', el('b', { text: t.STARTED + t.RECEIVED })]),
    el('span', {}, ['Succeeded ', el('b', { text: t.SUCCESS })]),
    el('span', {}, ['Failed ', el('b', { text: t.FAILURE })]),
    el('span', {}, ['Retried ', el('b', { text: t.RETRY })]),
    el('span', {}, ['Revoked ', el('b', { text: t.REVOKED })]),
  );
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

function renderChart() {
  const s = snap.series;
  const W = 900, H = 150, L = 40, B = 20, T = 8;
  const max = Math.max(1, ...s.succeeded, ...s.failed);
  const n = s.succeeded.length;
  const x = function (i) { return L + (i * (W - L - 8)) / Math.max(1, n - 1); };
  const y = function (v) { return T + (H - T - B) * (1 - v / max); };
  const line = function (values) { return values.map(function (v, i) { return x(i).toFixed(1) + ',' + y(v).toFixed(1); }).join(' '); };
  const root = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img', 'aria-label': 'throughput chart', id: 'throughput' });
  for (const v of [0, max / 2, max]) {
    root.append(svg('line', { x1: L, x2: W - 8, y1: y(v), y2: y(v), stroke: '#e3e6ec' }));
    const label = svg('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 10, fill: '#6b7385' });
    label.textContent = Number(v.toFixed(2)).toString();
    root.append(label);
  }
  const minutes = Math.round((n * s.step) / 60000);
  for (const [i, text] of [[0, '-' + minutes + ' min'], [n - 1, 'now']]) {
    const label = svg('text', { x: x(i), y: H - 4, 'text-anchor': i === 0 ? 'start' : 'end', 'font-size': 10, fill: '#6b7385' });
    label.textContent = text;
    root.append(label);
  }
  root.append(svg('polyline', { points: line(s.succeeded), fill: 'none', stroke: '#1a7f37', 'stroke-width': 2, class: 'succeeded' }));
  root.append(svg('polyline', { points: line(s.failed), fill: 'none', stroke: '#c62828', 'stroke-width': 2, class: 'failed' }));
  $('chart').replaceChildren(root);
}

function renderWorkers() {
  const rows = snap.workers.map(function (w) {
    const enc = encodeURIComponent(w.hostname);
    return el('tr', { 'data-worker': w.hostname }, [
      el('td', { class: 'mono', text: w.hostname }),
      el('td', { class: w.online ? 'online' : 'offline', text: w.online ? 'online' : 'offline' }),
      el('td', { text: w.heartbeatAge === null ? '' : w.heartbeatAge + ' s' }),
      el('td', { text: (w.swIdent || '') + ' ' + (w.swVer || '') }),
      el('td', { text: w.pool || '' }),
      el('td', { text: w.concurrency === null ? '' : w.concurrency }),
      el('td', { text: w.active }),
      el('td', { text: w.processed }),
      el('td', { text: w.loadavg.join(', ') }),
      el('td', { class: 'mono', text: w.queues.join(', ') }),
      el('td', {}, [
        el('button', { 'data-action': 'pool-grow', disabled: readOnly() || !w.online, onclick: function () { act('Grow the pool of ' + w.hostname + ' by 1?', '/api/workers/' + enc + '/pool', { op: 'grow', n: 1 }); }, text: 'Pool +1' }),
        ' ',
        el('button', { 'data-action': 'pool-shrink', disabled: readOnly() || !w.online, onclick: function () { act('Shrink the pool of ' + w.hostname + ' by 1?', '/api/workers/' + enc + '/pool', { op: 'shrink', n: 1 }); }, text: 'Pool -1' }),
        ' ',
        el('button', { class: 'danger', 'data-action': 'shutdown', disabled: readOnly() || !w.online, onclick: function () { act('Shut down worker ' + w.hostname + '? Running tasks finish first.', '/api/workers/' + enc + '/shutdown'); }, text: 'Shut down' }),
      ]),
    ]);
  });
  $('workers').replaceChildren(table(['Worker', 'Status', 'Heartbeat', 'Software', 'Pool', 'Concurrency', 'Active', 'Processed', 'Load', 'Queues', ''], rows, 'No worker seen yet. Workers announce themselves with worker-online and heartbeat events.'));
  const select = $('rate-worker');
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '', text: 'all workers' }), ...snap.workers.filter(function (w) { return w.online; }).map(function (w) { return el('option', { value: w.hostname, text: w.hostname }); }));
  select.value = chosen;
  $('rate-form').querySelector('button').disabled = readOnly();
}

function taskActions(t) {
  const done = ['SUCCESS', 'FAILURE', 'REVOKED', 'REJECTED'].includes(t.state) || t.revokeRequested;
  const enc = encodeURIComponent(t.uuid);
  const label = (t.name || 'task') + '[' + t.uuid + ']';
  return [
    el('button', { 'data-action': 'revoke', disabled: readOnly() || done, onclick: function () { act('Revoke ' + label + '? It will not run.', '/api/tasks/' + enc + '/revoke', { terminate: false }); }, text: 'Revoke' }),
    ' ',
    el('button', { class: 'danger', 'data-action': 'terminate', disabled: readOnly() || done, onclick: function () { act('Terminate ' + label + '? A running task is stopped (SIGTERM).', '/api/tasks/' + enc + '/revoke', { terminate: true }); }, text: 'Terminate' }),
  ];
}

function renderTasks() {
  const state = $('filter-state').value;
  const name = $('filter-name').value;
  const tasks = snap.tasks.filter(function (t) { return (!state || t.state === state) && (!name || (t.name || '').includes(name)); });
  const rows = tasks.map(function (t) {
    return el('tr', { 'data-task-id': t.uuid }, [
      el('td', { class: 'mono' }, [el('a', { href: '#/task/' + encodeURIComponent(t.uuid), text: t.name || '?' })]),
      el('td', { class: 'mono', text: t.uuid }),
      el('td', { class: 'state ' + t.state, text: t.state + (t.revokeRequested && t.state !== 'REVOKED' ? ' · revoke requested' : '') }),
      el('td', { class: 'mono args', title: (t.args || '') + ' ' + (t.kwargs || ''), text: (t.args || '') + ' ' + (t.kwargs || '') }),
      el('td', { class: 'mono', text: t.worker || '' }),
      el('td', { text: fmtTime(t.received || t.sent) }),
      el('td', { text: t.runtime === null ? '' : fmtNum(t.runtime, 3) + ' s' }),
      el('td', { text: t.retries }),
      el('td', {}, taskActions(t)),
    ]);
  });
  $('tasks').replaceChildren(table(['Name', 'UUID', 'State', 'Args', 'Worker', 'Received', 'Runtime', 'Retries', ''], rows, 'No task seen yet. Start workers with task events on (taskq worker -E).'));
}

function renderQueues() {
  const rows = snap.queues.map(function (q) {
    return el('tr', { 'data-queue': q.name }, [
      el('td', { class: 'mono', text: q.name }),
      el('td', { class: 'depth', text: q.depth === null ? '' : q.depth }),
      el('td', { text: fmtNum(q.rateIn, 2) + ' /s' }),
      el('td', { text: fmtNum(q.rateOut, 2) + ' /s' }),
    ]);
  });
  $('queues').replaceChildren(table(['Queue', 'Depth', 'Rate in', 'Rate out'], rows, 'No queue known yet (queues come from workers, and from --queues).'));
}

async function renderTask() {
  const id = taskId;
  $('task-id').textContent = id;
  let data;
  try {
    const res = await fetch('/api/tasks/' + encodeURIComponent(id));
    data = await res.json();
    if (!res.ok) { $('task').replaceChildren(el('div', { class: 'empty', text: data.error })); return; }
  } catch (error) {
    $('task').replaceChildren(el('div', { class: 'empty', text: String(error) }));
    return;
  }
  if (id !== taskId) return;
  const t = data.task || { uuid: id, state: data.meta && data.meta.status, retries: data.meta && data.meta.retries };
  const meta = data.meta;
  const fields = [
    ['Name', t.name || (meta && meta.name)], ['State', t.state], ['Worker', t.worker || (meta && meta.worker)], ['Queue', t.queue],
    ['Args', t.args], ['Kwargs', t.kwargs], ['Retries', t.retries], ['ETA', t.eta], ['Expires', t.expires],
    ['Sent', fmtTime(t.sent)], ['Received', fmtTime(t.received)], ['Started', fmtTime(t.started)], ['Finished', fmtTime(t.finished)],
    ['Runtime', t.runtime === null || t.runtime === undefined ? '' : fmtNum(t.runtime, 4) + ' s'], ['Root id', t.rootId], ['Parent id', t.parentId],
  ];
  const dl = el('dl', {}, []);
  for (const [k, v] of fields) {
    if (v === null || v === undefined || v === '') continue;
    dl.append(el('dt', { text: k }), el('dd', { class: k === 'State' ? 'state ' + v : '', text: v }));
  }
  const parts = [dl, el('p', {}, taskActions(t))];
  if (t.result) parts.push(el('h2', { text: 'Result (event)' }), el('pre', { id: 'task-result', text: t.result }));
  if (t.exception) parts.push(el('h2', { text: 'Exception' }), el('pre', { id: 'task-exception', text: t.exception }));
  const traceback = t.traceback || (meta && meta.traceback);
  if (traceback) parts.push(el('h2', { text: 'Traceback' }), el('pre', { id: 'task-traceback', text: traceback }));
  if (meta) parts.push(el('h2', { text: 'Stored result (' + meta.status + ')' }), el('pre', { id: 'task-meta', text: JSON.stringify(meta.result, null, 2) }));
  $('task').replaceChildren(...parts);
}

function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  if (hash.startsWith('task/')) { view = 'task'; taskId = decodeURIComponent(hash.slice(5)); }
  else view = ['workers', 'tasks', 'queues'].includes(hash) ? hash : 'workers';
  for (const v of ['workers', 'tasks', 'queues', 'task']) $('view-' + v).hidden = v !== view;
  for (const a of document.querySelectorAll('header nav a')) a.classList.toggle('current', a.dataset.view === view);
  render();
}

let lastTaskRender = 0;
function render() {
  if (!snap) return;
  $('ro').hidden = !snap.readOnly;
  renderTotals();
  renderChart();
  if (view === 'workers') renderWorkers();
  else if (view === 'tasks') renderTasks();
  else if (view === 'queues') renderQueues();
  else if (view === 'task') {
    // The detail page re-reads the task (and its stored result) at most once a second.
    const now = Date.now();
    if (now - lastTaskRender > 900) { lastTaskRender = now; renderTask(); }
  }
}

function connect() {
  const source = new EventSource('/api/events');
  source.addEventListener('snapshot', function (e) {
    snap = JSON.parse(e.data);
    $('conn').textContent = 'live · ' + new Date(snap.now).toLocaleTimeString();
    render();
  });
  source.onerror = function () { $('conn').textContent = 'reconnecting…'; };
}

$('filter-state').addEventListener('change', render);
$('filter-name').addEventListener('input', render);
$('rate-form').addEventListener('submit', function (e) {
  e.preventDefault();
  const task = $('rate-task').value.trim();
  const rate = $('rate-value').value.trim();
  const worker = $('rate-worker').value;
  act('Set the rate limit of ' + task + ' to ' + (rate || 'none') + ' on ' + (worker || 'all workers') + '?', '/api/rate-limit', { task: task, rate: rate, worker: worker });
});
window.addEventListener('hashchange', function () { lastTaskRender = 0; route(); });
if (location.pathname.startsWith('/task/')) location.hash = '#/task/' + location.pathname.slice(6);
route();
connect();
`;
