// The auditors' page: plain DOM, no framework, no network beyond this server. Every data request carries
// the bearer token (from the URL fragment #token=… once, then this tab's sessionStorage); the server asks
// the cluster who that is and what it may read.
'use strict';
(() => {
  const API = '/audit/v1';
  const PALETTE = [
    '#1d4ed8',
    '#b42318',
    '#0e9384',
    '#b54708',
    '#7a5af8',
    '#c11574',
    '#475467',
    '#4d7c0f',
    '#0369a1',
    '#a15c07',
  ];
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    for (const c of children) e.append(c);
    return e;
  };
  const svg = (tag, attrs = {}) => {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  };

  let token = '';
  let nextPage;

  function takeToken() {
    const m = /(?:^|[#&])token=([^&]+)/.exec(location.hash);
    if (m) {
      sessionStorage.setItem('tenantgate-audit-token', decodeURIComponent(m[1]));
      history.replaceState(null, '', location.pathname + location.search); // the token leaves the address bar
    }
    token = sessionStorage.getItem('tenantgate-audit-token') || '';
  }

  async function api(path, params) {
    const url = new URL(API + path, location.origin);
    for (const [k, v] of Object.entries(params || {})) if (v) url.searchParams.set(k, v);
    const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    if (res.status === 401) {
      showLogin('Your token was not accepted by the cluster; sign in again.');
      throw new Error('unauthenticated');
    }
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body.message || `${res.status} ${res.statusText}`);
    }
    return res;
  }

  function filters() {
    const form = new FormData($('filters'));
    const out = {};
    for (const [k, v] of form.entries()) if (v) out[k] = String(v);
    return out;
  }

  function bucketSeconds(since) {
    return { '1h': 300, '24h': 3600, '7d': 6 * 3600, '30d': 86400 }[since] || 86400;
  }

  function showError(message) {
    $('error').hidden = !message;
    $('error').textContent = message || '';
  }

  function showLogin(message) {
    $('app').hidden = true;
    $('login').hidden = false;
    if (message) $('who').textContent = message;
  }

  async function start() {
    takeToken();
    if (!token) return showLogin('Sign in with a bearer token.');
    try {
      const who = await (await api('/whoami')).json();
      $('who').textContent =
        `${who.user} · ${who.scope === 'cluster' ? 'all records' : `namespaces: ${who.namespaces.join(', ')}`}`;
      $('who').dataset.scope = who.scope;
    } catch (err) {
      if (err.message !== 'unauthenticated') {
        $('who').textContent = err.message;
        showLogin();
      }
      return;
    }
    $('login').hidden = true;
    $('app').hidden = false;
    const params = new URLSearchParams(location.search);
    for (const input of $('filters').elements)
      if (input.name && params.has(input.name)) input.value = params.get(input.name);
    await refresh();
  }

  async function refresh() {
    const f = filters();
    history.replaceState(null, '', `${location.pathname}?${new URLSearchParams(f)}`);
    showError('');
    $('records').querySelector('tbody').replaceChildren();
    nextPage = undefined;
    try {
      await Promise.all([loadRecords(f), loadChart(f)]);
    } catch (err) {
      // nothing stays on screen from a refused or failed query
      $('records').querySelector('tbody').replaceChildren();
      $('chart').replaceChildren();
      $('legend').replaceChildren();
      $('count').textContent = '';
      if (err.message !== 'unauthenticated') showError(err.message);
    }
    document.body.dataset.loaded = String(Date.now());
  }

  async function loadRecords(f, cont) {
    const body = await (
      await api('/records', { ...f, limit: '100', ...(cont ? { continue: cont } : {}) })
    ).json();
    const tbody = $('records').querySelector('tbody');
    for (const r of body.items) tbody.append(row(r));
    nextPage = body.metadata.continue;
    $('more').hidden = !nextPage;
    $('count').textContent = `(${tbody.children.length}${nextPage ? '+' : ''})`;
  }

  function row(r) {
    const object = `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
    const tr = el(
      'tr',
      { 'data-uid': r.uid, 'data-tenant': r.tenant || '', 'data-namespace': r.namespace || '' },
      el('td', {}, new Date(r.time).toISOString().replace('.000Z', 'Z')),
      el('td', { class: `action-${r.action}` }, r.dryRun ? `${r.action} (dry-run)` : r.action),
      el('td', {}, r.user),
      el('td', {}, r.tenant || '–'),
      el('td', {}, object),
      el('td', {}, r.violations.map((v) => v.policy).join(', ')),
    );
    tr.addEventListener('click', () => showDetail(r));
    return tr;
  }

  function showDetail(r) {
    $('detail-title').textContent =
      `${r.operation} ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
    const meta = $('detail-meta');
    meta.replaceChildren();
    const fields = [
      ['time', r.time],
      ['action', r.action + (r.dryRun ? ' (dry-run request)' : '')],
      ['allowed', String(r.allowed)],
      ['user', r.user],
      ['groups', (r.groups || []).join(', ')],
      ['tenant', r.tenant || '–'],
      ['apiVersion', r.apiVersion],
      ['uid', r.uid],
    ];
    for (const [k, v] of fields) meta.append(el('dt', {}, k), el('dd', {}, v));
    const list = $('detail-violations');
    list.replaceChildren();
    for (const v of r.violations) {
      // messages read "what is wrong — how to fix it"
      const cut = v.message.indexOf(' — ');
      const what = cut >= 0 ? v.message.slice(0, cut) : v.message;
      const fix = cut >= 0 ? v.message.slice(cut + 3) : '';
      list.append(
        el(
          'li',
          { 'data-policy': v.policy },
          el('strong', {}, `[${v.policy}] ${v.action}: `),
          what,
          ...(fix ? [el('div', { class: 'fix' }, `How to fix: ${fix}`)] : []),
          el('div', { class: 'fix' }, `bundle: ${v.bundle}`),
        ),
      );
    }
    $('detail-object').textContent = JSON.stringify(r.object ?? null, null, 2);
    $('detail').hidden = false;
  }

  async function loadChart(f) {
    const by = document.querySelector('input[name=by]:checked').value;
    const bucket = bucketSeconds(f.since);
    const body = await (await api('/histogram', { ...f, by, bucket: String(bucket) })).json();
    drawChart(body.buckets, bucket * 1000, f.since);
  }

  function drawChart(buckets, bucketMs, since) {
    const chart = $('chart');
    chart.replaceChildren();
    const legend = $('legend');
    legend.replaceChildren();
    const keys = [...new Set(buckets.map((b) => b.key))].sort();
    const color = (k) => PALETTE[keys.indexOf(k) % PALETTE.length];
    const now = Date.now();
    const sinceMs = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 }[since];
    const first = sinceMs
      ? Math.floor((now - sinceMs) / bucketMs) * bucketMs
      : Math.min(now, ...buckets.map((b) => b.start));
    const count = Math.max(1, Math.floor((now - first) / bucketMs) + 1);
    const totals = new Map();
    const stacks = new Map();
    for (const b of buckets) {
      totals.set(b.key, (totals.get(b.key) || 0) + b.count);
      stacks.set(b.start, (stacks.get(b.start) || 0) + b.count);
    }
    const max = Math.max(1, ...stacks.values());
    const W = 900,
      H = 200,
      left = 30,
      w = (W - left) / count;
    chart.append(svg('line', { x1: left, y1: H, x2: W, y2: H, stroke: '#d9dee5' }));
    const label = svg('text', { x: 0, y: 10 });
    label.textContent = String(max);
    chart.append(label);
    const offsets = new Map();
    for (const b of buckets) {
      const i = Math.floor((b.start - first) / bucketMs);
      if (i < 0 || i >= count) continue;
      const h = (b.count / max) * (H - 14);
      const y0 = offsets.get(b.start) || 0;
      offsets.set(b.start, y0 + h);
      const rect = svg('rect', {
        x: left + i * w + 1,
        y: H - y0 - h,
        width: Math.max(1, w - 2),
        height: h,
        fill: color(b.key),
        'data-key': b.key || '(none)',
        'data-count': b.count,
        'data-start': new Date(b.start).toISOString(),
      });
      const title = svg('title');
      title.textContent = `${b.key || '(no tenant)'}: ${b.count} at ${new Date(b.start).toISOString()}`;
      rect.append(title);
      chart.append(rect);
    }
    for (const k of keys) {
      // the swatch colour through CSSOM: the page's CSP forbids inline style attributes
      const swatch = el('i');
      swatch.style.background = color(k);
      legend.append(
        el(
          'li',
          { 'data-key': k || '(none)', 'data-total': String(totals.get(k)) },
          swatch,
          `${k || '(no tenant)'}: ${totals.get(k)}`,
        ),
      );
    }
    // time labels under the first, middle and last buckets
    for (const i of [...new Set([0, Math.floor((count - 1) / 2), count - 1])]) {
      const t = svg('text', {
        x: left + i * w + w / 2,
        y: H + 14,
        'text-anchor': i === 0 ? 'start' : i === count - 1 ? 'end' : 'middle',
      });
      t.textContent = new Date(first + i * bucketMs).toISOString().slice(5, 16).replace('T', ' ');
      chart.append(t);
    }
    if (!keys.length) legend.append(el('li', {}, 'no refusals in this range'));
  }

  async function download(format) {
    const items = [];
    let cont;
    const f = filters();
    if (format === 'csv') {
      const res = await api('/records', { ...f, limit: '1000', format: 'csv' });
      return save(await res.blob(), 'refusals.csv');
    }
    do {
      const body = await (
        await api('/records', { ...f, limit: '1000', ...(cont ? { continue: cont } : {}) })
      ).json();
      items.push(...body.items);
      cont = body.metadata.continue;
    } while (cont && items.length < 100000);
    save(new Blob([JSON.stringify(items, null, 2)], { type: 'application/json' }), 'refusals.json');
  }

  function save(blob, name) {
    const a = el('a', { href: URL.createObjectURL(blob), download: name });
    document.body.append(a);
    a.click();
    a.remove();
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('filters').addEventListener('submit', (e) => {
      e.preventDefault();
      void refresh();
    });
    for (const r of document.querySelectorAll('input[name=by]'))
      r.addEventListener('change', () => void loadChart(filters()).catch((err) => showError(err.message)));
    $('more').addEventListener(
      'click',
      () => void loadRecords(filters(), nextPage).catch((err) => showError(err.message)),
    );
    $('close-detail').addEventListener('click', () => {
      $('detail').hidden = true;
    });
    $('export-csv').addEventListener(
      'click',
      () => void download('csv').catch((err) => showError(err.message)),
    );
    $('export-json').addEventListener(
      'click',
      () => void download('json').catch((err) => showError(err.message)),
    );
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      sessionStorage.setItem('tenantgate-audit-token', $('token').value.trim());
      void start();
    });
    void start();
  });
})();
