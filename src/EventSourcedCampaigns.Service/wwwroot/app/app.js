// The Campaigns dashboard: plain JavaScript over the service's JSON API (docs/dashboard.md).
// Routes live in the hash: #/sign-in, #/campaigns, #/campaigns/{id}, #/campaigns/{id}/edit, #/new, #/new?draft={id}, #/audit.
'use strict';

const POLL_MS = 1000;
const STATUS_TEXT = { CancelledDuringSend: 'Cancelled During Send' };
const CHANNEL_TEXT = { Sms: 'SMS', ApiKey: 'API key' }; // campaign channels (Email, SMS, Push) and audit channels (User, API key, System)
const REASONS = [
  ['MarketerRequest', 'Changed my mind'], ['WrongAudience', 'Wrong audience'], ['ContentError', 'Mistake in the content'],
  ['ComplianceHold', 'Compliance hold'], ['ProviderOutage', 'Provider outage'], ['Other', 'Other'],
];
const STATUSES = ['Draft', 'Scheduling', 'Scheduled', 'Paused', 'Sending', 'Cancelling', 'Sent', 'Cancelled', 'CancelledDuringSend'];
const CANCELLABLE = ['Scheduling', 'Scheduled', 'Paused', 'Sending'];
// The list's orders (the API's sort and direction). Newest first by default: an order by the last change would move a
// sending campaign's row every second, under the pointer and the keyboard.
const SORTS = [
  ['CreatedAt:desc', 'Newest first'], ['CreatedAt:asc', 'Oldest first'], ['SendAt:asc', 'Send time, earliest first'],
  ['SendAt:desc', 'Send time, latest first'], ['Name:asc', 'Name, A to Z'], ['Name:desc', 'Name, Z to A'], ['UpdatedAt:desc', 'Last changed first'],
];
// The audit outcomes of an accepted cancel: only they count recipients (the API's counts of any other attempt are 0 or
// null, for it changed nothing).
const COUNTED_OUTCOMES = ['Stopping', 'Cancelled', 'CancelledDuringSend'];
const OUTCOME_TEXT = { Repeated: 'Repeated (already cancelled)', RefusedBadInput: 'Refused: bad input', RefusedUnknownCampaign: 'Refused: no such campaign' };
const LIVE = ['Scheduling', 'Scheduled', 'Sending', 'Cancelling'];
const EDITABLE = ['Draft', 'Paused'];
// A variant's subject is an email's subject line and a push notification's title; a text message has none.
const SUBJECT_LABELS = { Email: 'Subject', Push: 'Title', Sms: 'Subject (optional)' };
const CAMPAIGN_ID = /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i;

let session = null;
let pollTimer = null;
let pageToken = 0; // bumped on every navigation; stale polls stop themselves

// ---------- helpers ----------
const $ = (sel, root = document) => root.querySelector(sel);
/**
 * Text that holds a bidi control (an override like U+202E left open) is isolated (U+2068 … U+2069), so that it cannot
 * turn the text after it around: a campaign id shown beside its name, the tenant beside the actor.
 */
const isolate = s => /[\u202A-\u202E\u2066-\u2069]/.test(s) ? `\u2068${s}\u2069` : s;
/** Text for HTML, escaped and isolated as above. */
const esc = s => attr(isolate(String(s ?? '')));
/**
 * A campaign's name among other text, in a <bdi>: its direction is its own, and it cannot carry the text beside it along.
 * A Hebrew name followed by an id starting with digits ("מבצע 3f2a9c1b…") took the 3 to the far side of the name.
 */
const bdi = s => `<bdi>${esc(s)}</bdi>`;
/**
 * A form field's value, escaped and nothing more: isolated, a name, subject or content holding a direction control came
 * back from the edit form with U+2068 and U+2069 around it, and was saved so.
 */
const attr = s => String(s ?? '').replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const num = n => (n ?? 0).toLocaleString('en-US');
/** The API's percentages (two decimals at most) with two always, so that a column of them lines up: 6.70%, not 6.7%. */
const pct = n => `${(n ?? 0).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}%`;
const statusText = s => STATUS_TEXT[s] ?? s ?? '';
const channelText = c => CHANNEL_TEXT[c] ?? c ?? '';
const statusBadge = s => `<span class="status status-${esc(s)}">${esc(statusText(s))}</span>`;
const pad = n => String(n).padStart(2, '0');
function when(iso, seconds = false) {
  if (!iso) return '—';
  return new Date(iso).toLocaleString('en-US', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}), timeZoneName: 'short' });
}
function duration(span) { // "00:00:03.1234567" or "1.02:03:04"
  if (!span) return '—';
  const m = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(span);
  if (!m) return span;
  const secs = (+(m[1] || 0)) * 86400 + (+m[2]) * 3600 + (+m[3]) * 60 + (+m[4]);
  if (secs < 59.95) return `${secs.toFixed(1)} s`;
  // Rounded first, then split: 119.7 s is "2 min 0 s", never "1 min 60 s".
  const whole = Math.round(secs);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  const minutes = Math.round(secs / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
function actionsOf(item) {
  const raw = item.actions ?? 'None';
  return new Set(String(raw).split(',').map(s => s.trim()).filter(s => s && s !== 'None'));
}
function announce(text) {
  const live = $('#announcer');
  live.textContent = '';
  setTimeout(() => { live.textContent = text; }, 50);
}
const can = scope => !!session?.scopes?.includes(scope);
const isCancelled = s => s === 'Cancelled' || s === 'CancelledDuringSend';
/** Clone for the remainder: only a cancelled campaign has recipients it never sent to (a Sent one's remainder is empty). */
const remainderCloneable = s => isCancelled(s);
/** The report has no actions of its own: the same rule as the list's actions for Edit. */
const editable = r => (r.actions === undefined ? EDITABLE.includes(r.status) : actionsOf(r).has('Edit'));
/** A form's error: shown, focused (it has tabindex="-1") and scrolled into view, for it sits at the top of a long form. */
function showError(err, text) {
  err.textContent = text;
  err.hidden = false;
  err.focus({ preventScroll: true });
  err.scrollIntoView({ block: 'center' });
}
/** The page for a signed-in user whose scopes do not allow what the route does. */
function renderNotAllowed(main, title, what, scope = 'campaigns:write') {
  setPage(main, `<h1>${esc(title)}</h1><div class="card"><p>Your sign-in does not allow ${esc(what)}: it needs the scope ${esc(scope)}.</p>
    <p><a href="#/campaigns">Back to campaigns</a></p></div>`, title);
}

/** The sequence of this page's last write: the audit waits for it (a read model is a moment behind the write). */
let lastWrite = 0;
async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (method !== 'GET' && session?.csrfToken) h['X-CSRF-Token'] = session.csrfToken;
  if (body !== undefined) h['Content-Type'] = 'application/json';
  let res, text;
  try {
    res = await fetch(path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    text = await res.text();
  } catch {
    // The service or the network is down: status 0, which problem() puts in words, never an exception a handler misses.
    return { ok: false, status: 0, data: null, write: method !== 'GET' };
  }
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (res.status === 401 && !path.startsWith('/auth/')) { session = null; location.hash = '#/sign-in'; }
  if (method !== 'GET' && res.ok && Number.isInteger(data?.sequence)) lastWrite = Math.max(lastWrite, data.sequence);
  return { ok: res.ok, status: res.status, data, etag: res.headers.get('ETag') };
}
function problem(res) {
  if (res.status === 0)
    return res.write
      ? 'The service could not be reached, so whether this was done is not known. Check the connection, then look at the campaign again before you retry.'
      : 'The service could not be reached: the figures on screen are from the last successful refresh. Check the connection; the page retries every second.';
  const d = res.data;
  if (d && typeof d === 'object') return d.detail || d.title || `The service answered ${res.status}.`;
  return `The service answered ${res.status}.`;
}
/** Calls fn every second while the page is the same; fn answers false to stop (nothing more will change). */
function poll(fn) {
  const token = pageToken;
  const tick = async () => {
    if (token !== pageToken) return;
    let more = true;
    try { if (!document.hidden) more = (await fn()) !== false; } catch (e) { console.error(e); }
    if (more && token === pageToken) pollTimer = setTimeout(tick, POLL_MS);
  };
  pollTimer = setTimeout(tick, POLL_MS);
}

// ---------- session and routing ----------
async function loadSession() {
  const res = await api('/auth/session');
  session = res.ok ? res.data : { signedIn: false, developmentSignIn: false, signInHint: 'The service could not be reached.' };
  $('#nav').hidden = !session.signedIn;
  $('#who').hidden = !session.signedIn;
  $('#nav-audit').hidden = !can('audit:read');
  $('#nav-new').hidden = !can('campaigns:write');
  if (session.signedIn) $('#who-text').textContent = `${isolate(session.actor)} · ${isolate(session.tenant)}`;
}

async function route() {
  pageToken++;
  clearTimeout(pollTimer);
  closeMenus();
  if (!session) await loadSession();
  const hash = location.hash || '#/campaigns';
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query ?? '');
  const parts = path.split('/').filter(Boolean);
  if (!session.signedIn && parts[0] !== 'sign-in') { location.hash = '#/sign-in'; return; }
  // A campaign's own pages (its report, edit, schedule) are none of the tabs.
  const current = (parts[0] === 'campaigns' && parts[1]) || (parts[0] === 'new' && params.has('draft')) ? null : (parts[0] || 'campaigns');
  for (const a of document.querySelectorAll('[data-nav]'))
    if (a.dataset.nav === current) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  const main = $('#main');
  if (parts[0] === 'sign-in') renderSignIn(main);
  else if (parts[0] === 'campaigns' && parts[1] && parts[2] === 'edit') await renderEdit(main, parts[1]);
  else if (parts[0] === 'campaigns' && parts[1]) await renderReport(main, parts[1], params.get('after'));
  else if (parts[0] === 'new') await renderCreate(main, params.get('draft'));
  else if (parts[0] === 'audit') await renderAudit(main);
  else await renderList(main, params);
}

// A page the marketer went to takes the focus to its content; the page first loaded leaves it at the top of the
// document, so that the first Tab reaches "Skip to content" as on any site.
let marketerActed = false;
for (const type of ['keydown', 'pointerdown']) addEventListener(type, () => { marketerActed = true; }, { capture: true, once: true });

function setPage(main, html, title) {
  main.innerHTML = html;
  document.title = `${isolate(title)} · Campaigns`;
  if (marketerActed) main.focus({ preventScroll: true });
}

// ---------- sign-in ----------
function renderSignIn(main) {
  if (session.signedIn) { location.hash = '#/campaigns'; return; }
  const tokenForm = `<form id="token-sign-in" class="card" novalidate>
      <h2>Sign in with a token</h2>
      <p class="hint">Paste a bearer token from your organisation's identity provider, or an API key (esc_...).</p>
      <div class="field"><label for="ts-token">Token or API key</label><input id="ts-token" name="token" required autocomplete="off" spellcheck="false"></div>
      <div id="ts-error" class="error" role="alert" tabindex="-1" hidden></div>
      <button class="primary" type="submit">Sign in with the token</button>
    </form>`;
  const wireTokenForm = () => $('#token-sign-in').addEventListener('submit', async e => {
    e.preventDefault();
    const token = e.target.token.value.trim();
    const scheme = token.startsWith('esc_') ? 'ApiKey' : 'Bearer';
    const res = await api('/auth/token-sign-in', { method: 'POST', headers: { Authorization: `${scheme} ${token}` } });
    if (!res.ok) { $('#si-error') && ($('#si-error').hidden = true); showError($('#ts-error'), problem(res)); return; }
    await loadSession();
    location.hash = '#/campaigns';
  });
  // The identity provider's sign-in is a link: the provider's page, then back here signed in (or with ?sign-in=failed).
  const failed = new URLSearchParams(location.search).get('sign-in') === 'failed';
  if (failed) history.replaceState(null, '', `${location.pathname}${location.hash}`); // said once, not again on a reload
  const providerCard = session.identityProviderSignIn ? `<div class="card">
      <h2>Your organisation's account</h2>
      <p class="hint">You sign in at your organisation's identity provider and come back here signed in.</p>
      <div id="idp-error" class="error" role="alert" tabindex="-1"${failed ? '' : ' hidden'}>${failed ? "Signing in with your organisation's account did not complete: it was refused or cancelled there, or your account is not set up for this service (a tenant and scopes). Try again, or ask your administrator." : ''}</div>
      <a class="button primary" id="idp-sign-in" href="/auth/oidc/sign-in">Sign in with your organisation's account</a>
    </div>` : '';
  if (!session.developmentSignIn) {
    setPage(main, `<h1>Sign in</h1><div class="card"><p id="sign-in-hint">${esc(session.signInHint)}</p></div>${providerCard}${tokenForm}`, 'Sign in');
    wireTokenForm();
    if (failed) $('#idp-error').focus();
    return;
  }
  const scopes = ['campaigns:read', 'campaigns:write', 'campaigns:cancel', 'audit:read'];
  setPage(main, `<h1>Sign in (development)</h1>
    <form id="sign-in" class="card" novalidate>
      <p class="hint" id="sign-in-hint">${esc(session.signInHint)}</p>
      <div class="field"><label for="si-tenant">Tenant</label><input id="si-tenant" name="tenant" required autocomplete="organization" value="shop"></div>
      <div class="field"><label for="si-name">Your name or e-mail</label><input id="si-name" name="actor" required autocomplete="email" value=""></div>
      <fieldset><legend>Scopes</legend>${scopes.map(s => `<label class="hint"><input type="checkbox" name="scope" value="${s}" checked> ${s}</label>`).join('')}</fieldset>
      <div id="si-error" class="error" role="alert" tabindex="-1" hidden></div>
      <button class="primary" type="submit">Sign in</button>
    </form>${providerCard}${tokenForm}`, 'Sign in');
  wireTokenForm();
  $('#sign-in').addEventListener('submit', async e => {
    e.preventDefault();
    const form = e.target;
    const body = { tenant: form.tenant.value, name: form.actor.value, scopes: [...form.querySelectorAll('[name=scope]:checked')].map(c => c.value) };
    const res = await api('/auth/dev-sign-in', { method: 'POST', body });
    if (!res.ok) { $('#ts-error') && ($('#ts-error').hidden = true); showError($('#si-error'), problem(res)); return; }
    await loadSession();
    location.hash = '#/campaigns';
  });
}

// ---------- Campaigns tab ----------
let listState = { status: '', name: '', sort: SORTS[0][0], page: 1, pageSize: 20, statuses: new Map() };

async function renderList(main, params) {
  listState.status = params.get('status') ?? listState.status;
  if (SORTS.some(([v]) => v === params.get('sort'))) listState.sort = params.get('sort');
  setPage(main, `<h1>Campaigns</h1>
    <form class="filters" id="list-filters" role="search" aria-label="Filter campaigns">
      <div class="field"><label for="f-status">Status</label><select id="f-status" name="status"><option value="">All statuses</option>
        ${STATUSES.map(s => `<option value="${s}"${s === listState.status ? ' selected' : ''}>${statusText(s)}</option>`).join('')}</select></div>
      <div class="field"><label for="f-name">Search by name</label><input id="f-name" name="name" type="search" value="${attr(listState.name)}"></div>
      <div class="field"><label for="f-sort">Sort by</label><select id="f-sort" name="sort">
        ${SORTS.map(([v, t]) => `<option value="${v}"${v === listState.sort ? ' selected' : ''}>${t}</option>`).join('')}</select></div>
      <button type="submit">Apply</button>
      ${can('campaigns:write') ? '<a class="button primary" href="#/new">Create campaign</a>' : ''}
    </form>
    <div id="list-error" class="error" role="alert" hidden></div>
    <table class="cards" id="campaigns"><caption class="visually-hidden">Campaigns</caption>
      <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Send time</th><th scope="col" class="num">Recipients</th><th scope="col" class="num">Delivered</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody></tbody></table>
    <nav class="pager" aria-label="Pages"><button type="button" id="prev">Previous</button><span id="page-info"></span><button type="button" id="next">Next</button></nav>`, 'Campaigns');
  $('#list-filters').addEventListener('submit', e => {
    e.preventDefault();
    listState.status = $('#f-status').value; listState.name = $('#f-name').value.trim(); listState.sort = $('#f-sort').value; listState.page = 1;
    refreshList();
  });
  $('#f-status').addEventListener('change', () => { listState.status = $('#f-status').value; listState.page = 1; refreshList(); });
  $('#f-sort').addEventListener('change', () => { listState.sort = $('#f-sort').value; listState.page = 1; refreshList(); });
  $('#prev').addEventListener('click', () => { if (listState.page > 1) { listState.page--; refreshList(); } });
  $('#next').addEventListener('click', () => { listState.page++; refreshList(); });
  await refreshList();
  poll(() => refreshList());
}

async function refreshList(afterSequence) {
  const tbody = $('#campaigns tbody');
  if (!tbody) return;
  const token = pageToken;
  const [sort, direction] = listState.sort.split(':');
  const q = new URLSearchParams({ sort, descending: direction === 'desc', page: listState.page, pageSize: listState.pageSize });
  if (listState.status) q.set('status', listState.status);
  if (listState.name) q.set('name', listState.name);
  if (afterSequence) q.set('afterSequence', afterSequence);
  const res = await api(`/api/campaigns?${q}`);
  if (token !== pageToken || !tbody.isConnected) return; // the marketer went to another page meanwhile
  const err = $('#list-error');
  if (!res.ok) {
    err.textContent = problem(res); err.hidden = false; delete err.dataset.refusal;
    $('#page-info').textContent = '';
    $('#prev').disabled = $('#next').disabled = true; // no page was read to move from
    return;
  }
  if (!('refusal' in err.dataset)) err.hidden = true; // a refused action's message stays until the next action
  const { items, total } = res.data;
  const pages = Math.max(1, Math.ceil(total / listState.pageSize));
  if (listState.page > pages) { listState.page = pages; return refreshList(); }
  $('#page-info').textContent = `Page ${listState.page} of ${pages} · ${num(total)} campaign${total === 1 ? '' : 's'}`;
  $('#prev').disabled = listState.page <= 1;
  $('#next').disabled = listState.page >= pages;
  if (items.length === 0) { tbody.innerHTML = `<tr><td colspan="6">No campaigns match.</td></tr>`; tbody.dataset.ids = ''; return; }

  const ids = items.map(i => i.id).join();
  if (tbody.dataset.ids !== ids) {
    // A campaign added or gone, or a new order: the rows still listed move (an open menu stays open) and the control
    // that had the focus gets it back, for moving its row took it away.
    const focused = tbody.contains(document.activeElement) ? document.activeElement : null;
    const rows = new Map([...tbody.querySelectorAll('tr[data-id]')].map(r => [r.dataset.id, r]));
    tbody.replaceChildren(...items.map(i => rows.get(i.id) ?? newRow(i.id)));
    tbody.dataset.ids = ids;
    if (focused?.isConnected) focused.focus();
    else if (focused) $('#main').focus(); // its campaign left the page (another filter's status now): not lost to the body
  }
  for (const item of items) {
    const row = tbody.querySelector(`tr[data-id="${item.id}"]`);
    const before = listState.statuses.get(item.id);
    if (before && before !== item.status) announce(`${item.name}: ${statusText(before)} → ${statusText(item.status)}`);
    listState.statuses.set(item.id, item.status);
    renderRow(row, item);
  }
}

function newRow(id) {
  const row = document.createElement('tr');
  row.dataset.id = id;
  return row;
}

function rowSignature(item) {
  return JSON.stringify([item.name, item.status, item.actions, item.sendAt, item.recipients, item.recipientsPrepared, item.delivered,
    item.progressPercent, item.schedulingFailure, item.pausedReason]);
}

function renderRow(row, item) {
  const sig = rowSignature(item);
  if (row.dataset.sig === sig) return;
  // A refresh must not close a menu the marketer has open: it reopens with the actions possible now.
  // Nor take the focus away: the same control of the new row gets it back (the ⋯ button when that control is gone).
  const openMenuBefore = row.querySelector('.menu:not([hidden])');
  const focusedAct = openMenuBefore?.contains(document.activeElement) ? document.activeElement.dataset.act : null;
  const rowHadFocus = row.contains(document.activeElement);
  const focusedControl = rowHadFocus && !openMenuBefore ? focusKey(document.activeElement) : null;
  row.dataset.sig = sig;
  const actions = actionsOf(item);
  const cancelled = isCancelled(item.status);
  let statusCell = statusBadge(item.status);
  if (item.status === 'Scheduling') {
    statusCell += `<div class="note"><progress max="100" value="${item.progressPercent}" aria-label="Audience prepared for ${esc(item.name)}">${item.progressPercent}%</progress>
      Preparing the audience: ${num(item.recipientsPrepared)}${item.recipients ? ` of ${num(item.recipients)}` : ''} recipients</div>`;
  } else if (item.status === 'Sending' || item.status === 'Cancelling') {
    statusCell += `<div class="note"><progress max="100" value="${item.progressPercent}" aria-label="Sent of ${esc(item.name)}">${item.progressPercent}%</progress> ${pct(item.progressPercent)} delivered</div>`;
  }
  if (cancelled) statusCell += `<div class="note cancelled" data-test="clone-note">This campaign was cancelled. To send it again, clone it.</div>`;
  if (item.schedulingFailure) statusCell += `<div class="note cancelled">Scheduling failed: ${esc(item.schedulingFailure)}</div>`;
  if (item.pausedReason) statusCell += `<div class="note">${esc(item.pausedReason)}</div>`;

  const buttons = [];
  if (actions.has('Cancel') && can('campaigns:cancel')) buttons.push(`<button type="button" class="danger" data-act="Cancel">Cancel</button>`);
  if (cancelled && actions.has('Clone') && can('campaigns:write')) {
    buttons.push(`<button type="button" data-act="Clone">Clone</button>`);
    if (remainderCloneable(item.status)) buttons.push(`<button type="button" data-act="CloneRemainder">Clone for the remainder</button>`);
  }
  const menuItems = menuFor(item, actions);
  row.innerHTML = `
    <td class="name-cell" data-label="Name"><a href="#/campaigns/${item.id}">${bdi(item.name)}</a><div class="note">${esc(channelText(item.channel))}</div></td>
    <td data-label="Status">${statusCell}</td>
    <td data-label="Send time">${when(item.sendAt)}</td>
    <td data-label="Recipients" class="num">${num(item.recipients)}</td>
    <td data-label="Delivered" class="num">${num(item.delivered)}</td>
    <td data-label="Actions"><div class="row-actions">${buttons.join('')}
      <button type="button" class="menu-button" aria-haspopup="menu" aria-expanded="false" aria-label="More actions for ${esc(item.name)}">⋯</button>
      <ul class="menu" role="menu" hidden aria-label="Actions for ${esc(item.name)}">${menuItems}</ul></div></td>`;
  wireRow(row, item);
  if (openMenuBefore) {
    const menu = row.querySelector('.menu');
    menu.hidden = false;
    row.querySelector('.menu-button').setAttribute('aria-expanded', 'true');
    if (focusedAct) (menu.querySelector(`[data-act="${focusedAct}"]`) ?? menu.querySelector('[role=menuitem]')).focus();
    else if (rowHadFocus) row.querySelector('.menu-button').focus();
  } else if (focusedControl) {
    (row.querySelector(focusedControl) ?? row.querySelector('.menu-button')).focus();
  }
}
/** A selector for the same control in a row drawn again. */
function focusKey(el) {
  if (el.matches('.row-actions > [data-act]')) return `.row-actions > [data-act="${el.dataset.act}"]`;
  if (el.matches('.name-cell a')) return '.name-cell a';
  return '.menu-button';
}

function menuFor(item, actions) {
  const items = [`<li role="none"><button type="button" role="menuitem" data-act="Report">View report</button></li>`];
  const add = (act, label, cls = '') => items.push(`<li role="none"><button type="button" role="menuitem" data-act="${act}" class="${cls}">${label}</button></li>`);
  const write = can('campaigns:write');
  if (actions.has('Edit') && write) add('Edit', 'Edit…');
  if (actions.has('Schedule') && write) add('Schedule', 'Schedule…');
  if (actions.has('Pause') && write) add('Pause', 'Pause');
  if (actions.has('Resume') && write) add('Resume', 'Resume');
  if (actions.has('RevertToDraft') && write) add('RevertToDraft', 'Revert to draft');
  if (actions.has('Clone') && write) { add('Clone', 'Clone'); if (remainderCloneable(item.status)) add('CloneRemainder', 'Clone for the remainder'); }
  if (actions.has('Cancel') && can('campaigns:cancel')) add('Cancel', 'Cancel', 'danger-item');
  return items.join('');
}

function wireRow(row, item) {
  const menuButton = row.querySelector('.menu-button');
  const menu = row.querySelector('.menu');
  menuButton.addEventListener('click', () => (menu.hidden ? openMenu(menuButton, menu) : closeMenus(true)));
  menuButton.addEventListener('keydown', e => { if (e.key === 'ArrowDown') { e.preventDefault(); openMenu(menuButton, menu); } });
  menu.addEventListener('keydown', e => {
    const items = [...menu.querySelectorAll('[role=menuitem]')];
    const i = items.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); items[(i + 1) % items.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); items[(i - 1 + items.length) % items.length].focus(); }
    else if (e.key === 'Home') { e.preventDefault(); items[0].focus(); }
    else if (e.key === 'End') { e.preventDefault(); items[items.length - 1].focus(); }
    else if (e.key === 'Escape' || e.key === 'Tab') { closeMenus(true); }
  });
  for (const b of row.querySelectorAll('[data-act]'))
    b.addEventListener('click', () => {
      const fromMenu = b.getAttribute('role') === 'menuitem';
      // A menu item hides with its menu: the focus goes back to the row's ⋯ button, not to the page.
      closeMenus(fromMenu && menu.contains(document.activeElement));
      runAction(b.dataset.act, item, fromMenu ? menuButton : b);
    });
}

function openMenu(button, menu) {
  closeMenus();
  menu.hidden = false;
  button.setAttribute('aria-expanded', 'true');
  menu.querySelector('[role=menuitem]')?.focus();
}
function closeMenus(refocus) {
  for (const m of document.querySelectorAll('.menu:not([hidden])')) {
    m.hidden = true;
    const b = m.parentElement.querySelector('.menu-button');
    b?.setAttribute('aria-expanded', 'false');
    if (refocus) b?.focus();
  }
}
document.addEventListener('click', e => { if (!e.target.closest('.row-actions')) closeMenus(); });

// A field's longest text as the API counts it, in characters (code points): HTML's maxlength counts UTF-16 units, an
// emoji two, and held a name to 100 emoji where the API takes 200.
document.addEventListener('input', e => {
  const max = Number(e.target.dataset?.maxChars);
  const chars = max > 0 ? [...e.target.value] : [];
  if (chars.length > max) e.target.value = chars.slice(0, max).join('');
});

async function runAction(act, item, returnFocus) {
  switch (act) {
    case 'Report': location.hash = `#/campaigns/${item.id}`; return;
    case 'Edit': location.hash = `#/campaigns/${item.id}/edit`; return;
    case 'Schedule': location.hash = `#/new?draft=${item.id}`; return;
    case 'Cancel': openCancelDialog(item.id, item.name, returnFocus); return;
    case 'Clone': case 'CloneRemainder': return clone(item.id, item.name, act === 'CloneRemainder');
    default: {
      const path = { Pause: 'pause', Resume: 'resume', RevertToDraft: 'revert' }[act];
      hideListError();
      const res = await api(`/api/campaigns/${item.id}/${path}`, { method: 'POST', body: {} });
      if (!res.ok) { showListError(problem(res)); return; }
      announce(`${item.name}: ${statusText(res.data.status)}`);
      await refreshList(res.data.sequence);
    }
  }
}
/** A refused action's message: the every-second refresh leaves it on screen until the next action. */
function showListError(text) {
  const err = $('#list-error') ?? $('#report-error');
  if (err) { err.textContent = text; err.hidden = false; err.dataset.refusal = ''; } else alert(text);
}
function hideListError() {
  const err = $('#list-error') ?? $('#report-error');
  if (err && 'refusal' in err.dataset) { err.hidden = true; delete err.dataset.refusal; }
}

// Clones on their way: each click has a key of its own (a second clone is wanted once the first is made), so a double
// click made two copies.
const cloning = new Set();
async function clone(id, name, remainderOnly) {
  if (cloning.has(id)) return;
  cloning.add(id);
  try {
    hideListError();
    const res = await api(`/api/campaigns/${id}/clone`, { method: 'POST', body: { remainderOnly }, headers: { 'Idempotency-Key': crypto.randomUUID() } });
    if (!res.ok) { showListError(problem(res)); return; }
    announce(`${name} cloned${remainderOnly ? ' for the recipients it did not reach' : ''}: a new draft.`);
    if ($('#campaigns')) await refreshList(res.data.sequence);
    else location.hash = '#/campaigns';
  } finally {
    cloning.delete(id);
  }
}

// ---------- the cancel dialog ----------
async function openCancelDialog(id, name, returnFocus) {
  const root = $('#modal-root');
  root.innerHTML = `<div class="backdrop"><div role="dialog" aria-modal="true" aria-labelledby="dlg-title" aria-describedby="dlg-effect">
    <h2 id="dlg-title">Cancel “${bdi(name)}”?</h2>
    <div id="dlg-effect" class="effect"><p>Loading the latest numbers…</p></div>
    <div id="dlg-live" class="visually-hidden" aria-live="polite" aria-atomic="true"></div>
    <div class="field"><label for="dlg-reason">Reason</label><select id="dlg-reason">${REASONS.map(([v, t]) => `<option value="${v}">${t}</option>`).join('')}</select></div>
    <div class="field"><label for="dlg-text">Note <span class="hint">(optional, kept in the audit)</span></label><textarea id="dlg-text" rows="2" data-max-chars="1000"></textarea></div>
    <div id="dlg-error" class="error" role="alert" hidden></div>
    <div class="buttons"><button type="button" id="dlg-keep">Keep campaign</button><button type="button" class="danger" id="dlg-confirm">Cancel campaign</button></div>
  </div></div>`;
  const dialog = root.querySelector('[role=dialog]');
  const token = pageToken;
  let open = true;
  let refresher = null;
  let sending = false; // the cancel request is on its way
  let cancellable = true; // what the live preview last said
  let shownStatus = null; // the status the effect was last announced for
  // Back to the control that opened the dialog. The row may have been drawn again meanwhile: the same control of the
  // new row, else the row's ⋯ button; on the report, Stop campaign while it shows, else the campaign's name.
  const opener = () => {
    const row = $(`tr[data-id="${id}"]`);
    const same = row && returnFocus?.dataset?.act ? row.querySelector(`.row-actions > [data-act="${returnFocus.dataset.act}"]`) : null;
    const still = document.contains(returnFocus) && !returnFocus.closest('[hidden]') ? returnFocus : null;
    return still ?? same ?? row?.querySelector('.menu-button') ?? $('#stop:not([hidden])') ?? $('#r-name') ?? $('#main');
  };
  const close = () => {
    open = false;
    clearInterval(refresher);
    root.innerHTML = '';
    document.removeEventListener('keydown', onKey, true);
    opener()?.focus();
  };
  const onKey = e => {
    if (e.key === 'Escape') { e.preventDefault(); close(); return; }
    if (e.key !== 'Tab') return;
    const f = [...dialog.querySelectorAll('button, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(x => !x.disabled);
    if (e.shiftKey && document.activeElement === f[0]) { e.preventDefault(); f[f.length - 1].focus(); }
    else if (!e.shiftKey && document.activeElement === f[f.length - 1]) { e.preventDefault(); f[0].focus(); }
  };
  document.addEventListener('keydown', onKey, true);
  // The second click of a double click on Cancel or Stop campaign lands on the backdrop the first one opened: it is no
  // click outside the dialog, and closing on it would take the dialog away as soon as it showed. Nor does a press on
  // the backdrop take the focus out of the dialog to the page.
  const backdrop = root.querySelector('.backdrop');
  backdrop.addEventListener('mousedown', e => { if (e.target === backdrop) e.preventDefault(); });
  backdrop.addEventListener('click', e => { if (e.target === backdrop && e.detail < 2) close(); });
  $('#dlg-keep').addEventListener('click', close);
  $('#dlg-reason').focus();

  // Cancel campaign only while the campaign can still be cancelled: the effect text says why not. While the cancel is on
  // its way the button is only aria-disabled: a disabled button loses the focus to the page behind the modal, where it
  // stayed after a refusal (Tab then left the dialog).
  const updateButtons = () => {
    const confirm = $('#dlg-confirm');
    const keep = $('#dlg-keep');
    const hadFocus = document.activeElement === confirm;
    confirm.disabled = !cancellable;
    confirm.setAttribute('aria-disabled', String(sending));
    keep.textContent = cancellable ? 'Keep campaign' : 'Close';
    if (hadFocus && confirm.disabled) keep.focus();
  };
  const preview = async () => {
    const res = await api(`/api/campaigns/${id}/report`);
    if (!open || !res.ok) return;
    const effect = $('#dlg-effect');
    const html = cancelEffect(res.data);
    if (effect.dataset.html !== html) { effect.innerHTML = html; effect.dataset.html = html; }
    // Read out when it first shows and when the status changes, not with every second's new numbers while it sends:
    // a live region that changes each second is read out each second.
    if (res.data.status !== shownStatus) { $('#dlg-live').textContent = effect.textContent.replace(/\s+/g, ' ').trim(); shownStatus = res.data.status; }
    cancellable = CANCELLABLE.includes(res.data.status);
    updateButtons();
  };

  $('#dlg-confirm').addEventListener('click', async () => {
    if (sending) return; // pressed again while the cancel is on its way: one cancel
    sending = true;
    updateButtons();
    const res = await api(`/api/campaigns/${id}/cancel`, { method: 'POST', body: { reasonCode: $('#dlg-reason').value, reason: $('#dlg-text').value.trim() || null } });
    sending = false;
    if (!open) return;
    if (!res.ok) { const err = $('#dlg-error'); err.textContent = problem(res); err.hidden = false; updateButtons(); return; }
    close();
    announce(`${name}: cancel requested, now ${statusText(res.data.status)}.`);
    if ($('#campaigns')) await refreshList(res.data.sequence);
    if ($('#report')) await refreshReport(id, res.data.sequence);
    // Stop campaign hides and the row's Cancel button goes once cancelled: the focus must not fall to the page.
    if (token === pageToken && !$('#modal-root').hasChildNodes() && (document.activeElement === document.body || !document.activeElement)) opener()?.focus();
  });
  await preview();
  refresher = setInterval(() => { if (!open || token !== pageToken) clearInterval(refresher); else preview(); }, POLL_MS);
}

function cancelEffect(r) {
  const t = r.totals;
  const notSent = t.recipients - t.delivered - t.failed - t.inFlight;
  switch (r.status) {
    case 'Scheduling':
      return `<p>The audience is still being prepared. Nothing has been sent: <strong>no one will receive this campaign</strong>.</p>`;
    case 'Scheduled': case 'Paused':
      return `<p>Nothing has been sent yet. <strong>None of the ${num(t.recipients)} recipients will receive it.</strong></p>
        <p>To send it later you will need to clone it.</p>`;
    case 'Sending':
      // In flight = claimed: a claimed batch the provider has begun finishes, one still waiting (a rate limit, a retry
      // backoff, the dispatch queue) is released by the cancel and not sent. Which is which is not known here.
      return `<p>${num(t.delivered)} messages already delivered cannot be unsent.</p>
        <p>${t.inFlight > 0 ? `${num(t.inFlight)} messages are in batches already claimed for sending: those the provider has begun will finish, those still waiting are not sent.` : 'No batch is with the provider right now.'}</p>
        <p><strong>${t.inFlight > 0 ? `About ${num(notSent)} to ${num(notSent + t.inFlight)}` : `About ${num(notSent)}`} recipients will not receive it.</strong></p>`;
    case 'Cancelling':
      return `<p>This campaign is already being cancelled: ${num(t.inFlight)} messages in flight are finishing. There is nothing more to cancel.</p>`;
    case 'Draft':
      return `<p>This campaign is a draft: nothing is scheduled, so there is nothing to cancel.</p>`;
    default:
      return `<p>This campaign is ${esc(statusText(r.status))} and can no longer be cancelled.</p>`;
  }
}

// ---------- the report ----------
async function renderReport(main, id, afterSequence) {
  setPage(main, `<div id="report" data-id="${esc(id)}">
    <div class="report-head"><div><h1 id="r-name" tabindex="-1">Report</h1><div id="r-status"></div></div>
      <div class="head-actions"><a class="button" id="r-edit" href="#/campaigns/${esc(id)}/edit" hidden>Edit</a>
        <button type="button" class="danger" id="stop" hidden>Stop campaign</button></div></div>
    <div id="report-error" class="error" role="alert" hidden></div>
    <div id="r-body"><p>Loading…</p></div></div>`, 'Report');
  $('#stop').addEventListener('click', () => openCancelDialog(id, $('#r-name').textContent, $('#stop')));
  // After a create, schedule or edit: wait until the report shows it. An unknown campaign is not polled for.
  if (await refreshReport(id, afterSequence) !== false) poll(() => refreshReport(id));
}

let reportStatus = null;
/** Draws the report; answers false when there is no such campaign (nothing to poll for). */
async function refreshReport(id, afterSequence) {
  const report = $('#report');
  if (!report) return false;
  const res = await api(`/api/campaigns/${id}/report${afterSequence ? `?afterSequence=${afterSequence}` : ''}`);
  if (!report.isConnected) return false; // the marketer went to another page meanwhile
  const err = $('#report-error');
  if (!res.ok) {
    // The report is a read model a moment behind the events: a campaign created a moment ago has none yet, so a 404
    // is final only when the campaign's events say it does not exist either.
    if (res.status === 404 && (await api(`/api/campaigns/${id}/events`)).ok) return report.isConnected;
    if (!report.isConnected) return false;
    err.textContent = problem(res);
    err.hidden = false;
    delete err.dataset.refusal;
    // Not final: the read models behind, the service unreachable: try again. A refusal (403) will not change by itself.
    if (res.status !== 404 && res.status !== 400 && res.status !== 403) return true;
    $('#r-body').innerHTML = '<p><a href="#/campaigns">Back to campaigns</a></p>';
    $('#stop').hidden = $('#r-edit').hidden = true;
    return false;
  }
  if (!('refusal' in err.dataset)) err.hidden = true; // a refused clone's message stays until the next action
  const r = res.data;
  if (reportStatus && reportStatus.id === id && reportStatus.status !== r.status) announce(`${r.name}: ${statusText(reportStatus.status)} → ${statusText(r.status)}`);
  reportStatus = { id, status: r.status };
  document.title = `${isolate(r.name)} · Campaigns`;
  $('#r-name').textContent = r.name;
  $('#r-status').innerHTML = `${statusBadge(r.status)} <span class="hint">${esc(channelText(r.channel))}</span>`;
  showHeadAction($('#stop'), CANCELLABLE.includes(r.status) && can('campaigns:cancel'));
  showHeadAction($('#r-edit'), editable(r) && can('campaigns:write'));
  const t = r.totals;
  const notSent = t.recipients - t.delivered - t.failed - t.inFlight;
  const done = t.delivered + t.failed;
  const cancelled = isCancelled(r.status);
  const by = r.cancelledBy ? `${r.cancelledBy.id}${r.cancelledBy.channel === 'ApiKey' ? ' (API key)' : r.cancelledBy.channel === 'System' ? ' (system)' : ''}` : '—';
  const reason = r.cancelReason ? `${(REASONS.find(x => x[0] === r.cancelReason.code) ?? [0, r.cancelReason.code])[1]}${r.cancelReason.text ? `: ${r.cancelReason.text}` : ''}` : '—';
  const body = $('#r-body');
  const html = `
    ${r.status === 'Sending' || r.status === 'Cancelling' ? `<p><progress max="${t.recipients || 1}" value="${done}" aria-label="Sent so far">${done}</progress> ${num(done)} of ${num(t.recipients)} recorded</p>` : ''}
    ${r.status === 'Scheduling' ? `<p>${await schedulingProgress(r)}</p>` : ''}
    ${r.schedulingFailure ? `<p class="error">Scheduling failed: ${esc(r.schedulingFailure)}</p>` : ''}
    ${r.pausedReason ? `<p class="note">${esc(r.pausedReason)}</p>` : ''}
    ${r.lastBatchFailure ? `<p class="error" data-test="last-batch-failure">Batch ${num(r.lastBatchFailure.batchNumber)} failed ${when(r.lastBatchFailure.failedAt)}: ${esc(r.lastBatchFailure.error)}</p>` : ''}
    ${cancelled ? `<div class="card" data-test="clone-note"><p>This campaign was cancelled. To send it again, clone it.</p>
      ${can('campaigns:write') ? `<button type="button" id="r-clone">Clone</button>${remainderCloneable(r.status) ? ' <button type="button" id="r-clone-rest">Clone for the remainder</button>' : ''}` : ''}</div>` : ''}
    <h2>Totals</h2>
    <dl class="stats" id="totals">
      ${stat('Recipients', t.recipients)}${stat('Delivered', t.delivered)}${stat('Failed', t.failed)}${stat('In flight', t.inFlight)}${stat('Not sent', notSent)}
      ${stat('Delivered before the cancel request', r.cancelRequestedAt ? r.deliveredBeforeCancel : null)}${stat('Delivered after the cancel request', r.cancelRequestedAt ? r.deliveredAfterCancel : null)}
    </dl>
    <h2>Variants</h2>
    ${r.variants.length === 0 ? `<p class="hint">${cancelled ? 'None: the campaign was cancelled before its audience was split across the variants.' : 'No recipients assigned yet.'}</p>` : `<table class="cards" id="variants"><caption class="visually-hidden">Variants</caption><thead><tr><th scope="col">Variant</th><th scope="col" class="num">Recipients</th><th scope="col" class="num">Delivered</th><th scope="col" class="num">Failed</th><th scope="col" class="num">In flight</th><th scope="col" class="num">Not sent</th><th scope="col" class="num">Delivered %</th>${r.cancelRequestedAt ? '<th scope="col" class="num">Delivered before / after the cancel request</th>' : ''}</tr></thead><tbody>
      ${r.variants.map(v => { const c = v.counts; return `<tr><td data-label="Variant">${esc(v.variant)}</td><td class="num" data-label="Recipients">${num(c.recipients)}</td><td class="num" data-label="Delivered">${num(c.delivered)}</td><td class="num" data-label="Failed">${num(c.failed)}</td><td class="num" data-label="In flight">${num(c.inFlight)}</td><td class="num" data-label="Not sent">${num(c.recipients - c.delivered - c.failed - c.inFlight)}</td><td class="num" data-label="Delivered %">${pct(c.percentDelivered)}</td>${r.cancelRequestedAt ? `<td class="num" data-label="Delivered before / after the cancel request">${num(v.deliveredBeforeCancel)} / ${num(v.deliveredAfterCancel)}</td>` : ''}</tr>`; }).join('')}
    </tbody></table>`}
    <h2>Dates and cancellation</h2>
    <dl class="facts" id="facts">
      <dt>Scheduled on</dt><dd>${when(r.scheduledAt, true)}</dd>
      <dt>Send time</dt><dd>${when(r.sendAt, true)}</dd>
      <dt>Send started</dt><dd>${when(r.sendStartedAt, true)}</dd>
      <dt>Completed</dt><dd>${when(r.completedAt, true)}</dd>
      <dt>Cancel requested</dt><dd>${when(r.cancelRequestedAt, true)}</dd>
      <dt>Cancel effective</dt><dd>${when(r.cancelledAt, true)}</dd>
      <dt>Cancelled by</dt><dd>${esc(by)}</dd>
      <dt>Reason</dt><dd>${esc(reason)}</dd>
      <dt>Time to stop</dt><dd>${duration(r.cancelToStop)}</dd>
    </dl>`;
  if (body.dataset.html !== html) {
    body.innerHTML = html;
    body.dataset.html = html;
    $('#r-clone')?.addEventListener('click', () => clone(id, r.name, false));
    $('#r-clone-rest')?.addEventListener('click', () => clone(id, r.name, true));
  }
  return true;
}
/** Shows or hides Edit or Stop campaign; the focus on one that hides goes to the campaign's name, not to the page. */
function showHeadAction(button, show) {
  const hadFocus = document.activeElement === button;
  button.hidden = !show;
  if (hadFocus && !show) $('#r-name').focus();
}
/** The audience preparation's progress, from the campaign's row in the list (the report has no figures yet). */
async function schedulingProgress(r) {
  const res = await api(`/api/campaigns?${new URLSearchParams({ name: r.name, status: 'Scheduling', pageSize: 100 })}`);
  const item = res.ok ? res.data.items.find(i => i.id === r.id) : null;
  if (!item) return 'Preparing the audience… the totals appear when it is ready.';
  return `<progress max="100" value="${item.progressPercent}" aria-label="Audience prepared">${item.progressPercent}%</progress>
    Preparing the audience: ${num(item.recipientsPrepared)}${item.recipients ? ` of ${num(item.recipients)}` : ''} recipients. The totals appear when it is ready.`;
}
const stat = (label, value) => `<div class="stat"><dt>${label}</dt><dd>${value === null ? '—' : num(value)}</dd></div>`;

// ---------- create and schedule ----------
function zoneOffsetMinutes(zone, utcMs) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(utcMs));
  const get = type => +parts.find(p => p.type === type).value;
  return Math.round((Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second')) - utcMs) / 60000);
}
const offsetText = minutes => `${minutes >= 0 ? '+' : '-'}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
/**
 * A date and time as read on the clocks of a zone → `iso`: "2026-12-01T09:00" in "Europe/Warsaw" is
 * "2026-12-01T09:00:00+01:00" (the API refuses a time without offset), and `note`: what was chosen for a time the clocks
 * skip or repeat, else ''. As calendar apps do: a skipped time (02:30 on the night the clocks jump from 02:00 to 03:00)
 * moves forward by the jump, to 03:30; a repeated one (01:30 on the night they go back from 02:00 to 01:00) is the first.
 */
function resolveLocalTime(local, zone, subject = 'it sends') {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(local ?? '')) return { iso: local, note: '' };
  const [d, t] = local.split('T');
  const [y, m, day] = d.split('-').map(Number);
  const [hh, mi] = t.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, day, hh, mi); // the clock reading, as if it were UTC
  // A zone changes its offset at most once within a day either side: the offset before and after any change nearby.
  const before = zoneOffsetMinutes(zone, wall - 86_400_000);
  const after = zoneOffsetMinutes(zone, wall + 86_400_000);
  const fits = offset => zoneOffsetMinutes(zone, wall - offset * 60_000) === offset;
  const [fitsBefore, fitsAfter] = [fits(before), fits(after)];
  const skipped = !fitsBefore && !fitsAfter;
  const repeated = before !== after && fitsBefore && fitsAfter;
  // A skipped time read with the offset from before the jump lands as far after the jump; a repeated time is the first.
  const instant = wall - (fitsBefore || skipped ? before : after) * 60_000;
  const offset = zoneOffsetMinutes(zone, instant);
  const shown = localInZone(instant, zone);
  const asked = `${pad(hh)}:${pad(mi)}`;
  const note = skipped ? `${asked} does not exist in ${zone} on ${d} (the clocks skip ahead), so ${subject} at ${shown.slice(11)} instead.`
    : repeated ? `${asked} happens twice in ${zone} on ${d} (the clocks go back): ${subject} at the first, UTC${offsetText(offset)}.`
      : '';
  return { iso: `${shown}:00${offsetText(offset)}`, note };
}
const zonedIso = (local, zone) => resolveLocalTime(local, zone).iso;
function localInZone(utcMs, zone) {
  const off = zoneOffsetMinutes(zone, utcMs);
  return new Date(utcMs + off * 60000).toISOString().slice(0, 16);
}

// The browser's time zone data (ICU) names some zones as they were once called: a marketer looks for Kolkata, not Calcutta.
const RENAMED_ZONES = {
  'Asia/Calcutta': 'Asia/Kolkata', 'Europe/Kiev': 'Europe/Kyiv', 'Asia/Saigon': 'Asia/Ho_Chi_Minh', 'Asia/Katmandu': 'Asia/Kathmandu',
  'Asia/Rangoon': 'Asia/Yangon', 'America/Godthab': 'America/Nuuk', 'Atlantic/Faeroe': 'Atlantic/Faroe', 'Pacific/Truk': 'Pacific/Chuuk',
  'Pacific/Ponape': 'Pacific/Pohnpei', 'Pacific/Enderbury': 'Pacific/Kanton', 'Asia/Ulan_Bator': 'Asia/Ulaanbaatar',
  'Asia/Dacca': 'Asia/Dhaka', 'Asia/Thimbu': 'Asia/Thimphu', 'Asia/Macao': 'Asia/Macau', 'Asia/Ujung_Pandang': 'Asia/Makassar',
};
const currentZoneName = zone => RENAMED_ZONES[zone] ?? zone;

async function renderCreate(main, draftId) {
  if (!can('campaigns:write')) return renderNotAllowed(main, 'Create campaign', 'creating or scheduling campaigns');
  const browserZone = currentZoneName(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const zones = [...new Set((Intl.supportedValuesOf?.('timeZone') ?? [browserZone, 'UTC']).map(currentZoneName))].sort();
  if (!zones.includes('UTC')) zones.unshift('UTC');
  if (!zones.includes(browserZone)) zones.unshift(browserZone);
  let draft = null;
  let remainderOf = null; // a clone for the remainder: the report of the campaign whose unreached recipients it sends to
  if (draftId) {
    const token = pageToken;
    const [res, events] = await Promise.all([api(`/api/campaigns/${draftId}/report`), api(`/api/campaigns/${draftId}/events`)]);
    const origin = events.ok ? events.data.find(e => e.type === 'campaign_created')?.data?.clonedFrom : null;
    const source = origin?.remainderOnly ? await api(`/api/campaigns/${origin.sourceCampaignId}/report`) : null;
    if (token !== pageToken) return; // the marketer went to another page meanwhile
    if (res.ok) draft = res.data;
    if (origin?.remainderOnly) remainderOf = source.ok ? source.data : { id: origin.sourceCampaignId, name: 'its source' };
  }
  const title = draft ? `Schedule “${draft.name}”` : 'Create campaign';
  const start = Math.ceil((Date.now() + 3600_000) / 900_000) * 900_000;
  setPage(main, `<h1>${esc(title)}</h1>
    <form id="create" novalidate>
      <div id="create-error" class="error" role="alert" tabindex="-1" hidden></div>
      ${draft ? `<input type="hidden" name="draft" value="${attr(draft.id)}">` : `
      <fieldset id="message-set"><legend>Message</legend>
        ${nameField('')}
        <div class="field"><label for="c-channel">Channel</label><select id="c-channel" name="channel"><option>Email</option><option value="Sms">SMS</option><option>Push</option></select></div>
      </fieldset>
      ${variantsFieldset(false, 'Email')}`}
      <fieldset><legend>Audience</legend>
        ${remainderOf ? `<p id="remainder-note">A clone for the remainder: it goes to the ${remainderOf.totals ? `${num(remainderOf.totals.notSent)} ` : ''}recipients
          <a href="#/campaigns/${esc(remainderOf.id)}">${bdi(remainderOf.name)}</a> did not reach, not to lists.</p>` : `
        <div class="field"><label for="c-include">Lists to include</label><input id="c-include" name="include" size="40" aria-describedby="include-hint" value="everyone">
          <div class="hint" id="include-hint">Comma-separated list or segment names.</div></div>
        <div class="field"><label for="c-exclude">Lists to exclude</label><input id="c-exclude" name="exclude" size="40" aria-describedby="exclude-hint">
          <div class="hint" id="exclude-hint">Recipients of these lists get nothing, even when they are in an included list.</div></div>`}
      </fieldset>
      <fieldset><legend>Send time</legend>
        <div class="field"><label for="c-when">Date and time</label><input id="c-when" name="when" type="datetime-local" required value="${localInZone(start, browserZone)}"></div>
        <div class="field"><label for="c-zone">Time zone</label><select id="c-zone" name="zone">${zones.map(z => `<option${z === browserZone ? ' selected' : ''}>${esc(z)}</option>`).join('')}</select></div>
        <p class="hint" id="c-iso" aria-live="polite"></p>
      </fieldset>
      <div class="buttons" style="justify-content:flex-start">
        <button type="submit" class="primary">${draft ? 'Schedule' : 'Create and schedule'}</button>
        ${draft ? '' : '<button type="button" id="save-draft">Save as draft</button>'}
        <a class="button" href="#/campaigns">Back to campaigns</a>
      </div>
    </form>`, title);
  const form = $('#create');
  const showIso = () => {
    const { iso, note } = resolveLocalTime(form.when.value, form.zone.value);
    $('#c-iso').textContent = form.when.value ? `Sends at ${iso}${note ? `. ${note}` : ''}` : '';
  };
  form.when.addEventListener('input', showIso);
  form.zone.addEventListener('change', showIso);
  showIso();
  const submit = oneAtATime(form, schedule => submitCreate(form, schedule));
  if (!draft) {
    addVariantRow({ key: 'A', splitPercent: 100 });
    wireAddVariant();
    form.channel.addEventListener('change', () => {
      $('#variant-rows').dataset.channel = form.channel.value;
      for (const input of document.querySelectorAll('#variant-rows [name=v-subject]')) labelSubject(input, form.channel.value);
    });
    $('#save-draft').addEventListener('click', () => submit(false));
  }
  form.addEventListener('submit', e => { e.preventDefault(); submit(true); });
}

/** The campaign's name, as the create and the edit forms ask for it. */
const nameField = value => `<div class="field"><label for="c-name">Name</label><input id="c-name" name="campaignName" required data-max-chars="200" size="40" value="${attr(value)}"></div>`;

/** The variants and their split. Fixed (a paused campaign): the keys and the split are read-only, none added or removed. */
function variantsFieldset(fixed, channel) {
  const hint = fixed
    ? 'The audience is already split across these variants: only their subject and content can change. To change the variants or the split, revert the campaign to draft.'
    : 'One variant with 100% sends the same message to everyone; for an A/B test give each variant its share (the shares add up to 100).';
  return `<fieldset id="variants-set"><legend>Variants and split</legend>
        <p class="hint" id="split-hint">${hint}</p>
        <div id="variant-rows" data-channel="${esc(channel)}"></div>
        ${fixed ? '' : '<button type="button" id="add-variant">Add variant</button>'}
      </fieldset>`;
}
function wireAddVariant() {
  $('#add-variant').addEventListener('click', () => {
    // The first letter no row uses: after a row was removed, the count of rows names one that is still there. In either
    // case, as the API tells keys apart ("b" takes B).
    const used = new Set(readVariants().map(v => v.key.toUpperCase()));
    let code = 65;
    while (used.has(String.fromCharCode(code))) code++;
    addVariantRow({ key: String.fromCharCode(code), splitPercent: 0 });
    $('#variant-rows').lastElementChild.querySelector('input').focus();
  });
}

/** Numbers the rows' fields: never reused, so a row added after one was removed does not share its labels' targets. */
let variantRowSeq = 0;
function addVariantRow({ key = '', subject = '', content = '', splitPercent = 0 }, fixed = false) {
  const rows = $('#variant-rows');
  const n = ++variantRowSeq;
  const div = document.createElement('div');
  div.className = 'variant';
  const locked = fixed ? ' readonly aria-describedby="split-hint"' : '';
  div.innerHTML = `
    <div><label for="v-key-${n}">Variant</label><input id="v-key-${n}" name="v-key" value="${attr(key)}" data-max-chars="50"${locked}></div>
    <div><label for="v-subject-${n}">Subject</label><input id="v-subject-${n}" name="v-subject" value="${attr(subject)}"></div>
    <div><label for="v-content-${n}">Content</label><textarea id="v-content-${n}" name="v-content" rows="2"></textarea></div>
    <div><label for="v-split-${n}">Split %</label><input id="v-split-${n}" name="v-split" type="number" min="0" max="100" value="${attr(splitPercent)}"${locked}></div>
    <div>${fixed ? '' : `<span class="label-space" aria-hidden="true">&nbsp;</span><button type="button" class="link" aria-label="Remove variant ${esc(key)}">Remove</button>`}</div>`;
  // A content of several lines: a one-line input dropped its line breaks, and a textarea's markup drops a first one.
  div.querySelector('[name=v-content]').value = content;
  const remove = div.querySelector('button');
  remove?.addEventListener('click', () => { div.remove(); $('#add-variant').focus(); });
  div.querySelector('[name=v-key]').addEventListener('input', e => remove?.setAttribute('aria-label', `Remove variant ${e.target.value.trim()}`));
  rows.appendChild(div);
  labelSubject(div.querySelector('[name=v-subject]'), rows.dataset.channel);
}

/** Labels a variant's subject for the channel, required unless the channel has none (SMS). */
function labelSubject(input, channel) {
  input.labels[0].textContent = SUBJECT_LABELS[channel] ?? 'Subject';
  input.required = channel !== 'Sms';
}

/** What the API could only refuse as a body it cannot read (a split of 50.5), in words; else null. */
function variantsProblem(variants) {
  return variants.some(v => !Number.isInteger(v.splitPercent)) ? 'Each variant\'s split is a whole number of percent, from 1 to 100.' : null;
}

function readVariants() {
  return [...document.querySelectorAll('#variant-rows .variant')].map(v => ({
    key: v.querySelector('[name=v-key]').value.trim(), subject: v.querySelector('[name=v-subject]').value,
    content: v.querySelector('[name=v-content]').value, splitPercent: Number(v.querySelector('[name=v-split]').value || 0),
  }));
}

/**
 * A form's submit, one at a time: a second press while the first is on its way (a double click, Enter twice) would send
 * its commands again (two schedules, two edits). The buttons stay enabled: a disabled one would lose the focus.
 */
function oneAtATime(form, submit) {
  return async (...args) => {
    if ('sending' in form.dataset) return;
    form.dataset.sending = '';
    try { await submit(...args); } finally { delete form.dataset.sending; }
  };
}

async function submitCreate(form, schedule) {
  const err = $('#create-error');
  err.hidden = true;
  form.when.removeAttribute('aria-invalid');
  const fail = text => showError(err, text);
  // The send time is checked before anything is saved: no draft is made for a form that cannot schedule.
  const sendAt = zonedIso(form.when.value, form.zone.value);
  if (schedule && !form.when.value) {
    form.when.setAttribute('aria-invalid', 'true');
    return fail('Choose a send time: a date and a time.');
  }
  if (schedule && Date.parse(sendAt) <= Date.now()) {
    form.when.setAttribute('aria-invalid', 'true');
    return fail(`The send time must be in the future: ${when(sendAt)} has passed.`);
  }
  let id = form.draft?.value;
  if (!id) {
    const variants = readVariants();
    if (variantsProblem(variants)) return fail(variantsProblem(variants));
    const res = await api('/api/campaigns', { method: 'POST', body: { name: form.campaignName.value.trim(), channel: form.channel.value, variants },
      headers: { 'Idempotency-Key': form.dataset.key ??= crypto.randomUUID() } });
    if (!res.ok) return fail(problem(res));
    id = res.data.campaignId;
    if (!schedule) { announce(`Draft ${form.campaignName.value} saved.`); location.hash = `#/campaigns/${id}?after=${res.data.sequence}`; return; }
  }
  // A clone for the remainder names no list: it goes to the recipients its source did not reach.
  const list = field => (field?.value ?? '').split(',').map(x => x.trim()).filter(Boolean);
  const res = await api(`/api/campaigns/${id}/schedule`, { method: 'POST', body: { sendAt, included: list(form.include), excluded: list(form.exclude) } });
  if (!res.ok) {
    if (!form.draft) { // the campaign exists now: from here on the form schedules that draft, as it was saved
      const hidden = document.createElement('input');
      hidden.type = 'hidden'; hidden.name = 'draft'; hidden.value = id;
      form.appendChild(hidden);
      $('#message-set').disabled = $('#variants-set').disabled = true;
      $('#save-draft').remove(); // saved already: Save as draft would only schedule it
      form.querySelector('[type=submit]').textContent = 'Schedule';
      return fail(`The campaign was saved as a draft but not scheduled: ${problem(res)}`);
    }
    return fail(problem(res));
  }
  announce('Campaign scheduled.');
  location.hash = `#/campaigns/${id}?after=${res.data.sequence}`;
}

// ---------- edit ----------
/** The name and variants now: the last of the campaign's created or edited events (the report does not carry the content). */
function currentMessage(events) {
  const last = events.filter(e => e.type === 'campaign_created' || e.type === 'campaign_edited').pop()?.data;
  return last ? { name: last.name, variants: last.variants ?? [] } : null;
}

async function renderEdit(main, id) {
  if (!can('campaigns:write')) return renderNotAllowed(main, 'Edit campaign', 'editing campaigns');
  const token = pageToken;
  const [report, events] = await Promise.all([api(`/api/campaigns/${id}/report`), api(`/api/campaigns/${id}/events`)]);
  if (token !== pageToken) return; // the marketer went to another page meanwhile
  const message = events.ok ? currentMessage(events.data) : null;
  if (!report.ok || !message) {
    setPage(main, `<h1>Edit campaign</h1><div class="error" role="alert">${esc(problem(report.ok ? events : report))}</div>
      <p><a href="#/campaigns">Back to campaigns</a></p>`, 'Edit campaign');
    return;
  }
  const r = report.data;
  const title = `Edit “${message.name}”`;
  if (!editable(r)) {
    setPage(main, `<h1>${esc(title)}</h1><div class="card"><p>This campaign is ${esc(statusText(r.status))}: only a draft or a paused campaign can be edited.
      ${r.status === 'Sent' || isCancelled(r.status) ? 'Clone it to make changes.' : ''}</p>
      <p><a href="#/campaigns/${esc(id)}">Back to the report</a></p></div>`, title);
    return;
  }
  const fixed = r.status === 'Paused';
  setPage(main, `<h1>${esc(title)}</h1>
    <form id="edit" novalidate>
      <div id="edit-error" class="error" role="alert" tabindex="-1" hidden></div>
      <fieldset><legend>Message</legend>
        ${nameField(message.name)}
        <p class="hint">Channel: ${esc(channelText(r.channel))} (a campaign keeps its channel)</p>
      </fieldset>
      ${variantsFieldset(fixed, r.channel)}
      <div class="buttons" style="justify-content:flex-start">
        <button type="submit" class="primary">Save changes</button>
        <a class="button" href="#/campaigns/${esc(id)}">Back to the report</a>
      </div>
    </form>`, title);
  for (const v of message.variants) addVariantRow(v, fixed);
  if (!fixed) wireAddVariant();
  const form = $('#edit');
  const submit = oneAtATime(form, async () => {
    const err = $('#edit-error');
    err.hidden = true;
    const name = form.campaignName.value.trim();
    const variants = readVariants();
    if (variantsProblem(variants)) { showError(err, variantsProblem(variants)); return; }
    // Saved only if the campaign is still as this form loaded it: another marketer's save in between is not overwritten.
    const res = await api(`/api/campaigns/${id}/edit`, { method: 'POST', body: { name, variants },
      headers: events.etag ? { 'If-Match': events.etag } : {} });
    if (res.status === 412) { showConflict(err, main, id); return; }
    if (!res.ok) { showError(err, problem(res)); return; }
    announce(`${name} saved.`);
    location.hash = `#/campaigns/${id}?after=${res.data.sequence}`;
  });
  form.addEventListener('submit', e => { e.preventDefault(); submit(); });
}

/** Someone saved the campaign after this form loaded it: say so, keep what was typed on screen, offer the latest version. */
function showConflict(err, main, id) {
  showError(err, 'Someone changed this campaign since you opened it, so your changes were not saved. What you typed is still in ' +
    'the form: copy anything you want to keep before you load the latest version, which replaces it. ');
  const reload = document.createElement('button');
  reload.type = 'button';
  reload.className = 'link';
  reload.textContent = 'Load the latest version';
  reload.addEventListener('click', async () => {
    await renderEdit(main, id);
    announce('The form shows the latest version of the campaign.');
  });
  err.appendChild(reload);
}

// ---------- audit ----------
// The filters as the API takes them, and as the marketer typed them (shown again on the next visit: the rows and the
// export follow the filters, so the form must show them).
let auditState = { page: 1, pageSize: 25, filters: {}, typed: {} };
async function renderAudit(main) {
  if (!can('audit:read')) return renderNotAllowed(main, 'Cancellation audit', 'reading the cancellation audit', 'audit:read');
  const zone = currentZoneName(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  setPage(main, `<h1>Cancellation audit</h1>
    <div id="chain" class="chain" aria-live="polite">Verifying the audit chain…</div>
    <form class="filters" id="audit-filters" aria-label="Filter the audit">
      <div class="field"><label for="a-campaign">Campaign id</label><input id="a-campaign" name="campaignId" size="36" spellcheck="false" autocomplete="off"></div>
      <div class="field"><label for="a-actor">Actor</label><input id="a-actor" name="actor"></div>
      <div class="field"><label for="a-channel">Channel</label><select id="a-channel" name="channel"><option value="">Any</option><option>User</option><option value="ApiKey">API key</option><option>System</option></select></div>
      <div class="field"><label for="a-from">From</label><input id="a-from" name="from" type="datetime-local" aria-describedby="a-times"></div>
      <div class="field"><label for="a-to">To</label><input id="a-to" name="to" type="datetime-local" aria-describedby="a-times"></div>
      <button type="submit">Apply</button>
      <a class="button" id="csv" href="/api/audit/cancellations.csv" download>Export CSV</a>
      <p class="hint" id="a-times">From and To are in ${esc(zone)}; To is not included (a whole day is From 00:00 To the next day 00:00).</p>
      <p class="hint" id="a-time-notes" aria-live="polite"></p>
    </form>
    <div id="audit-error" class="error" role="alert" tabindex="-1" hidden></div>
    <table class="cards" id="audit"><caption class="visually-hidden">Cancel attempts, newest first</caption>
      <thead><tr><th scope="col">Requested</th><th scope="col">Campaign</th><th scope="col">Actor</th><th scope="col">Channel</th><th scope="col">Reason</th><th scope="col">Status then</th><th scope="col">Outcome</th><th scope="col" class="num">Delivered before / after</th><th scope="col" class="num">Failed</th><th scope="col" class="num">Not sent</th><th scope="col">Effective</th><th scope="col">Time to stop</th></tr></thead>
      <tbody></tbody></table>
    <nav class="pager" aria-label="Pages"><button type="button" id="prev">Previous</button><span id="page-info"></span><button type="button" id="next">Next</button></nav>`, 'Audit');
  auditState.brokenAt = null; // known once this visit's verification answers
  const form = $('#audit-filters');
  for (const [name, value] of Object.entries(auditState.typed)) form.elements[name].value = value;
  form.addEventListener('submit', e => {
    e.preventDefault();
    const f = auditFilters(form, zone);
    if (!f) return;
    auditState = { ...auditState, page: 1, filters: f, typed: Object.fromEntries(new FormData(form)) };
    refreshAudit();
  });
  // "Only this campaign" in a row, or the broken chain's campaign: the full id into the filter, applied.
  const onlyCampaign = e => {
    const only = e.target.closest('[data-campaign]');
    if (!only) return;
    form.campaignId.value = only.dataset.campaign;
    form.requestSubmit();
  };
  $('#audit tbody').addEventListener('click', onlyCampaign);
  $('#chain').addEventListener('click', onlyCampaign);
  $('#prev').addEventListener('click', () => { if (auditState.page > 1) { auditState.page--; refreshAudit(); } });
  $('#next').addEventListener('click', () => { auditState.page++; refreshAudit(); });
  api('/api/audit/verification').then(res => {
    const chain = $('#chain');
    if (!chain) return;
    if (res.status === 404) { chain.textContent = 'The audit chain verification is not available on this service.'; return; }
    if (!res.ok) { chain.textContent = `Could not verify the audit chain: ${problem(res)}`; return; }
    const v = res.data;
    chain.className = `chain ${v.intact ? 'intact' : 'broken'}`;
    // An empty chain proves nothing: said as such, as the CLI says it, not as "intact, 0 entries".
    if (v.intact && v.entries === 0 && !v.unchained) {
      chain.textContent = 'Nothing to verify yet: this tenant has no cancel attempts in the audit chain.';
      return;
    }
    if (v.intact) {
      chain.textContent = `Audit chain verified: intact, ${num(v.entries)} entr${v.entries === 1 ? 'y' : 'ies'}${v.unchained ? ` (${num(v.unchained)} older entries not chained)` : ''}. It proves each attempt's request (who, when, why, status, delivered before) and each cancel's outcome (delivered after, failed, not sent, when it took effect).`;
      return;
    }
    // Where the break is, on screen: the entry at that position is marked in the table ("#n in the chain").
    const b = v.firstBreak ?? {};
    chain.innerHTML = `Audit chain BROKEN at position ${esc(String(b.position))}: ${esc(b.reason ?? 'unknown reason')}` +
      (b.campaignId ? ` <button type="button" class="link" data-campaign="${esc(b.campaignId)}">Show that campaign's attempts</button>` : '');
    auditState.brokenAt = b.position;
    auditState.brokenCampaign = b.campaignId;
    refreshAudit();
  });
  await refreshAudit();
  // A cancel mid-send is Stopping until its batches in flight are recorded: the rows refresh until none is.
  poll(async () => { if (auditState.stopping) await refreshAudit(); });
}

/** The filters of the form, checked: null (and the reason shown) when the service would refuse them. */
function auditFilters(form, zone) {
  const err = $('#audit-error');
  for (const field of [form.campaignId, form.from, form.to]) field.removeAttribute('aria-invalid');
  const refuse = (field, text) => { field.setAttribute('aria-invalid', 'true'); clearAudit(); showError(err, text); return null; };
  const f = {};
  const campaignId = form.campaignId.value.trim();
  if (campaignId && !CAMPAIGN_ID.test(campaignId))
    return refuse(form.campaignId, `“${campaignId}” is not a whole campaign id. A campaign id has 36 characters, like 3f2b7c1e-8f43-4a57-9d55-0d1d2f0c9a11: use “Only this campaign” in the table, or copy it from the report's address.`);
  if (campaignId) f.campaignId = campaignId;
  if (form.actor.value.trim()) f.actor = form.actor.value.trim();
  if (form.channel.value) f.channel = form.channel.value;
  // A time the clocks skip or repeat is resolved as the create form does, and said so: the page then compares instants.
  const from = form.from.value ? resolveLocalTime(form.from.value, zone, 'From is') : null;
  const to = form.to.value ? resolveLocalTime(form.to.value, zone, 'To is') : null;
  $('#a-time-notes').textContent = [from?.note, to?.note].filter(Boolean).join(' ');
  if (from) f.from = from.iso;
  if (to) f.to = to.iso;
  if (f.from && f.to && Date.parse(f.from) > Date.parse(f.to))
    return refuse(form.to, `The “To” time is before the “From” time${from.note || to.note ? ' once the clocks’ change is applied' : ''}: choose a To after From.`);
  return f;
}
/** No rows, no count: what is shown must match the filters, and the last ones did not run. */
function clearAudit() {
  auditState.stopping = false;
  $('#csv').hidden = true; // its link holds the filters that did not run

  $('#audit tbody').innerHTML = '';
  $('#page-info').textContent = '';
  $('#prev').disabled = $('#next').disabled = true;
}

async function refreshAudit() {
  const q = new URLSearchParams(auditState.filters);
  $('#csv').href = `/api/audit/cancellations.csv${q.toString() ? `?${q}` : ''}`;
  q.set('page', auditState.page); q.set('pageSize', auditState.pageSize);
  if (lastWrite > 0) q.set('afterSequence', lastWrite); // a cancel made a moment ago is in the audit already
  const token = pageToken;
  const res = await api(`/api/audit/cancellations?${q}`);
  if (token !== pageToken || !$('#audit')) return; // the marketer went to another page meanwhile
  const err = $('#audit-error');
  if (!res.ok) { clearAudit(); showError(err, problem(res)); return; }
  err.hidden = true;
  $('#csv').hidden = false;
  const { items, total } = res.data;
  // A cancel that was Stopping and took effect is announced, as a status change in the list is.
  for (const e of items.filter(e => e.outcome !== 'Stopping' && auditState.stoppingIds?.has(e.id)))
    announce(`${e.campaignName ?? 'Campaign'}: ${OUTCOME_TEXT[e.outcome] ?? statusText(e.outcome)}.`);
  auditState.stoppingIds = new Set(items.filter(e => e.outcome === 'Stopping').map(e => e.id));
  auditState.stopping = auditState.stoppingIds.size > 0;
  const pages = Math.max(1, Math.ceil(total / auditState.pageSize));
  $('#page-info').textContent = `Page ${auditState.page} of ${pages} · ${num(total)} attempt${total === 1 ? '' : 's'}`;
  $('#prev').disabled = auditState.page <= 1;
  $('#next').disabled = auditState.page >= pages;
  const counted = e => COUNTED_OUTCOMES.includes(e.outcome);
  const count = n => n === null || n === undefined ? '—' : num(n);
  const known = n => n !== null && n !== undefined;
  // The entry of the break's campaign at its position: a position alone could name an entry chained after the break.
  const broken = e => known(auditState.brokenAt) && e.campaignId === auditState.brokenCampaign
    && (e.chainPosition === auditState.brokenAt || e.outcomeChainPosition === auditState.brokenAt);
  const links = e => [known(e.chainPosition) ? `#${num(e.chainPosition)} in the chain` : null,
    known(e.outcomeChainPosition) ? `outcome #${num(e.outcomeChainPosition)}` : null].filter(Boolean).join(', ');
  $('#audit tbody').innerHTML = items.length === 0 ? '<tr><td colspan="12">No cancel attempts match.</td></tr>' : items.map(e => `<tr${broken(e) ? ' class="broken" data-test="chain-break"' : ''}>
    <td data-label="Requested">${when(e.requestedAt, true)}${links(e) ? `<div class="hint">${links(e)}${broken(e) ? ': the chain breaks here' : ''}</div>` : ''}</td>
    <td data-label="Campaign">${auditCampaign(e)}
      <div><button type="button" class="link" data-campaign="${esc(e.campaignId)}">Only this campaign</button></div></td>
    <td data-label="Actor">${esc(e.actorId)}</td><td data-label="Channel">${esc(channelText(e.channel))}</td>
    <td data-label="Reason">${esc((REASONS.find(x => x[0] === e.reasonCode) ?? [0, e.reasonCode])[1])}${e.reasonText ? `: ${esc(e.reasonText)}` : ''}</td>
    <td data-label="Status then">${e.statusAtRequest ? esc(statusText(e.statusAtRequest)) : '—'}</td>
    <td data-label="Outcome">${esc(OUTCOME_TEXT[e.outcome] ?? statusText(e.outcome))}${e.rejectionMessage ? `<div class="note">${esc(e.rejectionMessage)}</div>` : ''}</td>
    <td data-label="Delivered before / after" class="num">${counted(e) ? `${num(e.deliveredBefore)} / ${num(e.deliveredAfter)}` : '—'}</td>
    <td data-label="Failed" class="num">${counted(e) ? count(e.failed) : '—'}</td>
    <td data-label="Not sent" class="num">${counted(e) ? count(e.notSent) : '—'}</td>
    <td data-label="Effective">${when(e.effectiveAt, true)}</td><td data-label="Time to stop">${duration(e.timeToStop)}</td></tr>`).join('');
}

// The campaign's name linked to its report, its id's first characters beside it (names need not be unique) and the whole
// id as the title; the short id alone when the tenant has no such campaign (a cancel of an unknown id).
function auditCampaign(e) {
  const id = esc(e.campaignId), short = `${esc(e.campaignId.slice(0, 8))}…`;
  const link = text => `<a href="#/campaigns/${id}" title="${id}" aria-label="Report of campaign ${esc(e.campaignName ?? e.campaignId)}">${text}</a>`;
  return e.campaignName ? `${link(bdi(e.campaignName))} <span class="hint">${short}</span>` : link(short);
}

// ---------- start ----------
$('#sign-out').addEventListener('click', async () => {
  await api('/auth/sign-out', { method: 'POST' });
  session = null;
  await loadSession();
  location.hash = '#/sign-in';
});
// "Skip to content" moves the focus to the page's main region; its #main is not a route.
$('.skip').addEventListener('click', e => {
  e.preventDefault();
  $('#main').focus();
});
window.addEventListener('hashchange', route);
route();
