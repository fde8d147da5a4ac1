/**
 * The viewer's page: static HTML and a script, served by `serveViewer` next to d3-hierarchy's
 * UMD file from node_modules. Kept as strings in a module so the built package needs no asset
 * copying and users no bundler. The script reads the access token from its page's URL and
 * passes it on every request; nothing is inlined, so the page runs under a strict CSP.
 *
 * @internal
 */
export const viewerHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>xotp viewer</title>
<meta name="referrer" content="no-referrer">
<link rel="stylesheet" href="viewer.css?token=__TOKEN__">
</head>
<body>
<header>
  <strong>xotp</strong> <span id="runtime"></span>
  <span id="summary"></span>
  <span id="connection" class="down">connecting…</span>
  <span class="legend"><i class="ok"></i>running <i class="busy"></i>starting / restarting <i class="stopping"></i>stopping <i class="failed"></i>failed <i class="other"></i>other</span>
</header>
<main>
  <div id="tree"><svg id="svg" xmlns="http://www.w3.org/2000/svg"></svg></div>
  <aside id="details"><p class="hint">Click a process to see its details.</p></aside>
</main>
<script src="d3-hierarchy.js?token=__TOKEN__"></script>
<script src="viewer.js?token=__TOKEN__"></script>
</body>
</html>
`;

/** @internal */
export const viewerCss = `
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.35 system-ui, sans-serif; color: #1b1f24; background: #f6f8fa; }
header { display: flex; gap: 16px; align-items: center; padding: 8px 14px; background: #24292f; color: #fff; }
header .legend { margin-left: auto; font-size: 12px; }
header .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin: 0 4px 0 10px; vertical-align: -1px; }
#connection.up { color: #8ce99a; } #connection.down { color: #ffa8a8; }
main { display: flex; align-items: flex-start; }
#tree { flex: 1; overflow: auto; padding: 12px; }
#details { width: 360px; flex: none; min-height: 100vh; padding: 12px 14px; background: #fff; border-left: 1px solid #d0d7de; position: sticky; top: 0; max-height: 100vh; overflow: auto; }
#details h2 { font-size: 15px; margin: 0 0 6px; word-break: break-all; }
#details table { border-collapse: collapse; width: 100%; }
#details td { border-top: 1px solid #eaeef2; padding: 3px 4px; vertical-align: top; word-break: break-word; }
#details td:first-child { color: #57606a; white-space: nowrap; width: 1%; }
#details ol { margin: 4px 0; padding-left: 20px; }
.hint { color: #57606a; }
svg text { font: 12px system-ui, sans-serif; }
.link { fill: none; stroke: #afb8c1; stroke-width: 1.2; }
.node { cursor: pointer; }
.node circle { stroke: #24292f; stroke-width: 1; }
.node.selected circle { stroke-width: 3; }
.node .label { fill: #1b1f24; }
.node .state { fill: #57606a; font-size: 11px; }
.badge rect { fill: #cf222e; } .badge text { fill: #fff; font-size: 10px; font-weight: 600; }
.ok { fill: #2da44e; background: #2da44e; } .busy { fill: #d4a72c; background: #d4a72c; }
.stopping { fill: #8c959f; background: #8c959f; } .failed { fill: #cf222e; background: #cf222e; }
.other { fill: #54aeff; background: #54aeff; }
`;

/** @internal */
export const viewerJs = `(() => {
  'use strict';
  const token = new URLSearchParams(location.search).get('token') || '';
  const svg = document.getElementById('svg');
  const details = document.getElementById('details');
  const connection = document.getElementById('connection');
  const NS = 'http://www.w3.org/2000/svg';
  const state = { tree: null, updates: 0, times: [], selected: null, byId: new Map() };
  // For tests and curious users: what the page has received.
  window.__xotpViewer = state;

  const el = (name, attrs, parent) => {
    const node = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (parent) parent.appendChild(node);
    return node;
  };
  const segment = (id) => id.slice(id.lastIndexOf('/') + 1);

  function render() {
    const tree = state.tree;
    if (!tree) return;
    const root = d3.hierarchy(tree, (d) => d.children);
    const rowHeight = 26, colWidth = 200;
    d3.tree().nodeSize([rowHeight, colWidth])(root);
    let minX = Infinity, maxX = -Infinity, maxY = 0;
    root.each((n) => { minX = Math.min(minX, n.x); maxX = Math.max(maxX, n.x); maxY = Math.max(maxY, n.y); });
    const width = maxY + colWidth + 40, height = maxX - minX + rowHeight * 2;
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    svg.replaceChildren();
    const g = el('g', { transform: 'translate(20,' + (rowHeight - minX) + ')' }, svg);
    for (const link of root.links()) {
      const s = link.source, t = link.target, mid = (s.y + t.y) / 2;
      el('path', { class: 'link', d: 'M' + s.y + ',' + s.x + 'C' + mid + ',' + s.x + ' ' + mid + ',' + t.x + ' ' + t.y + ',' + t.x }, g);
    }
    state.byId = new Map();
    root.each((n) => {
      const d = n.data;
      state.byId.set(d.id, d);
      const node = el('g', {
        class: 'node' + (state.selected === d.id ? ' selected' : ''),
        transform: 'translate(' + n.y + ',' + n.x + ')',
        'data-id': d.id,
        'data-pid': d.pid,
        'data-parent': n.parent ? n.parent.data.id : '',
        'data-state': d.state,
        'data-kind': d.kind,
        'data-restarts': d.restarts || 0,
      }, g);
      el('circle', { r: 7, class: d.colour }, node);
      const label = el('text', { x: 12, y: -1, class: 'label' }, node);
      label.textContent = (d.name && d.name !== segment(d.id) ? segment(d.id) + ' (' + d.name + ')' : segment(d.id)) + ' ' + d.pid;
      const sub = el('text', { x: 12, y: 11, class: 'state' }, node);
      sub.textContent = d.kind + ' · ' + d.state + (d.osPid ? ' · os ' + d.osPid : '') + (d.pool ? ' · ' + d.pool.ready + '/' + d.pool.size + ' ready' : '');
      if (d.restarts > 0) {
        const text = '↻ ' + d.restarts;
        const badge = el('g', { class: 'badge', transform: 'translate(' + (-14 - (8 + text.length * 6)) + ',-7)', 'data-restarts': d.restarts }, node);
        el('rect', { width: 8 + text.length * 6, height: 14, rx: 7 }, badge);
        const t = el('text', { x: 4, y: 11 }, badge);
        t.textContent = text;
      }
      const title = el('title', {}, node);
      title.textContent = d.id + (d.lastExit ? '\\nlast exit: ' + d.lastExit : '');
    });
    const count = state.byId.size;
    document.getElementById('summary').textContent = count + ' processes · ' + state.updates + ' updates';
    document.getElementById('runtime').textContent = tree.id;
    showDetails();
  }

  // Runtime-clock times (ms since the runtime's clock began: a test's simulated clock starts at 0).
  const when = (at) => '@' + Math.round(at) + ' ms';
  function row(table, key, value) {
    if (value === undefined || value === null || value === '') return;
    const tr = table.insertRow();
    tr.insertCell().textContent = key;
    const cell = tr.insertCell();
    if (value instanceof Node) cell.appendChild(value);
    else cell.textContent = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  function list(items, format) {
    const ol = document.createElement('ol');
    for (const item of items) { const li = document.createElement('li'); li.textContent = format(item); ol.appendChild(li); }
    return ol;
  }

  function showDetails() {
    const d = state.selected && state.byId.get(state.selected);
    if (!d) {
      if (state.selected) details.replaceChildren(Object.assign(document.createElement('p'), { className: 'hint', textContent: state.selected + ' is gone.' }));
      return;
    }
    const h = document.createElement('h2');
    h.textContent = d.id;
    const table = document.createElement('table');
    table.id = 'detail-table';
    row(table, 'pid', d.pid);
    row(table, 'kind', d.kind);
    row(table, 'state', d.state);
    row(table, 'status', d.status);
    row(table, 'name', d.name);
    row(table, 'child id', d.childId);
    row(table, 'restarts', d.restarts);
    row(table, 'last exit', d.lastExit);
    row(table, 'links', d.links && d.links.length ? d.links.join(', ') : d.links && 'none');
    row(table, 'monitored by', d.monitoredBy);
    row(table, 'traps exits', d.trapExit);
    row(table, 'OS pid', d.osPid);
    row(table, 'bridge', d.bridge);
    row(table, 'pool', d.pool);
    row(table, 'breaker', d.breaker);
    if (d.supervisor) {
      row(table, 'strategy', d.supervisor.strategy);
      row(table, 'restarts in window', d.supervisor.restartsInWindow);
      if (d.supervisor.idleChildren.length) row(table, 'not running', list(d.supervisor.idleChildren, (c) => c.id + (c.restarting ? ' (restarting)' : '') + (c.lastExit ? ': ' + c.lastExit : '')));
    }
    if (d.recentExits && d.recentExits.length) row(table, 'recent exits', list(d.recentExits, (e) => when(e.at) + ' ' + e.pid + ': ' + e.reason));
    if (d.history && d.history.length) row(table, 'history', list(d.history, (e) => when(e.at) + ' ' + e.event + ' ' + e.pid + (e.detail ? ': ' + e.detail : '')));
    for (const [k, v] of Object.entries(d)) {
      if (!known.has(k)) row(table, k, v);
    }
    details.replaceChildren(h, table);
  }
  const known = new Set(['id', 'pid', 'kind', 'state', 'status', 'name', 'childId', 'restarts', 'lastExit', 'links', 'monitoredBy', 'trapExit', 'osPid', 'bridge', 'pool', 'breaker', 'supervisor', 'recentExits', 'history', 'children', 'colour']);

  svg.addEventListener('click', (event) => {
    const node = event.target.closest && event.target.closest('.node');
    if (!node) return;
    state.selected = node.getAttribute('data-id');
    for (const n of svg.querySelectorAll('.node.selected')) n.classList.remove('selected');
    node.classList.add('selected');
    showDetails();
  });

  const source = new EventSource('events?token=' + encodeURIComponent(token));
  source.addEventListener('open', () => { connection.textContent = 'live'; connection.className = 'up'; });
  source.addEventListener('error', () => { connection.textContent = 'disconnected'; connection.className = 'down'; });
  source.addEventListener('tree', (event) => {
    state.updates++;
    // Arrival times of the last updates (bounded), for tests that count updates per second.
    state.times.push(performance.now());
    if (state.times.length > 10000) state.times.splice(0, 5000);
    state.tree = JSON.parse(event.data);
    render();
  });
})();
`;
