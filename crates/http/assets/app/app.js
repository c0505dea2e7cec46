// xclade customers — the admin page served at /app (docs/admin-page.md).
//
// One ES module, no framework, no build step. It talks to the service's public JSON APIs only:
//   * sign-in:  POST /auth/user/emailpass → {"token"}; the token lives in this tab's
//               sessionStorage (never a cookie) and goes out as `Authorization: Bearer`;
//   * admin family (/admin/…): customers, addresses, group lists and memberships;
//   * project family (/{projectKey}/customer-groups/{id}): group rename and delete, which send
//               the `version` the page showed, so a concurrent change answers 409 instead of
//               being overwritten. The project key is the `project` claim of the admin token.
// The page routes inside itself with the URL fragment (#/customers/…), so the server only
// serves a few exact paths. Every node is built with DOM calls (textContent, never innerHTML),
// so data from the API is never parsed as markup; the Content-Security-Policy forbids inline
// script and style anyway.

const TOKEN_KEY = 'xclade.admin.token';
const EMAIL_KEY = 'xclade.admin.email';
const PAGE_SIZE = 20;
const SLOW_MS = 300; // a request slower than this shows the spinner
const TIMEOUT_MS = 20000; // a request slower than this is abandoned with a message
const LIST_FIELDS = 'id,email,first_name,last_name,company_name,phone,created_at';

const $ = (id) => document.getElementById(id);
const main = $('main');

const session = { token: null, project: null, email: null, actor: null };

// ---------------------------------------------------------------------------------------------
// DOM helpers

/** Builds an element: h('a', {href: '#/x', class: 'c', onclick: f}, 'text', child…). */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;

/** A labelled input with a place for its error, addressed by `data-field` = the API field name. */
function field({ label, name, type = 'text', value, autocomplete, hint, inputmode }) {
  const id = nextId(`f-${name}`);
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const input = h('input', {
    id,
    name,
    type,
    value: value ?? '',
    autocomplete: autocomplete ?? 'off',
    inputmode,
    'aria-describedby': [hintId, errorId].filter(Boolean).join(' '),
  });
  return h(
    'div',
    { class: 'field', dataset: { field: name } },
    h('label', { for: id }, label),
    input,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errorId, hidden: true }),
  );
}

function checkbox({ label, name, checked }) {
  const id = nextId(`f-${name}`);
  return h(
    'div',
    { class: 'field check', dataset: { field: name } },
    h('input', { id, name, type: 'checkbox', checked: checked ? true : null }),
    h('label', { for: id }, label),
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }),
  );
}

function formError() {
  return h('p', { class: 'form-error', role: 'alert', hidden: true });
}

function inputOf(form, name) {
  return form.querySelector(`[data-field="${name}"] input, [data-field="${name}"] select`);
}

function valueOf(form, name) {
  return (inputOf(form, name)?.value ?? '').trim();
}

function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error, .form-error')) {
    p.hidden = true;
    p.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** Shows `message` beside the field `name` of `form`, or at the form's level when it has none. */
function showError(form, name, message) {
  const box = name ? form.querySelector(`[data-field="${name}"]`) : null;
  if (box) {
    const p = box.querySelector('.field-error');
    p.textContent = message;
    p.hidden = false;
    const input = box.querySelector('input, select');
    input?.setAttribute('aria-invalid', 'true');
    input?.focus();
    return;
  }
  const p = form.querySelector('.form-error');
  if (p) {
    p.textContent = message;
    p.hidden = false;
  } else {
    showAlert(message);
  }
}

/** Disables `button` while `work` runs (one submit at a time). */
async function busyButton(button, work) {
  if (button.disabled) return;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
  }
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateFormat.format(d);
}

function fullName(c) {
  return [c.first_name, c.last_name].filter((s) => s && s.trim()).join(' ');
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

// ---------------------------------------------------------------------------------------------
// Messages: the spinner, the notice (success) and the alert (failure)

let inflight = 0;
let busyTimer = null;
function busyStart() {
  inflight += 1;
  if (inflight === 1) {
    busyTimer = setTimeout(() => {
      $('busy').hidden = false;
      main.setAttribute('aria-busy', 'true');
    }, SLOW_MS);
  }
}
function busyEnd() {
  inflight -= 1;
  if (inflight === 0) {
    clearTimeout(busyTimer);
    $('busy').hidden = true;
    main.removeAttribute('aria-busy');
  }
}

function showAlert(message) {
  $('alert-text').textContent = message;
  $('alert').hidden = false;
}
function clearAlert() {
  $('alert').hidden = true;
  $('alert-text').textContent = '';
}

let flashText = null;
/** A message shown with the next page rendered (e.g. "Customer created."). */
function flash(text) {
  flashText = text;
}
function notice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

// ---------------------------------------------------------------------------------------------
// The session

function claimsOf(token) {
  try {
    const part = String(token).split('.')[1] ?? '';
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** The project key of a token: its `project` claim, else its `manage_project:{key}` scope. */
function projectOf(claims) {
  if (typeof claims?.project === 'string' && claims.project) return claims.project;
  const m = /(?:^|\s)manage_project:([a-z0-9-]+)/.exec(claims?.scope ?? '');
  return m ? m[1] : null;
}

function storage() {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage disabled: the token stays in memory only
  }
}

/** Takes a token for this tab; false when it is unreadable or expired. */
function adopt(token, email) {
  const claims = claimsOf(token);
  const project = projectOf(claims);
  if (!claims || !project || (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now())) return false;
  session.token = token;
  session.project = project;
  session.email = email || null;
  session.actor = typeof claims.sub === 'string' ? claims.sub : null;
  storage()?.setItem(TOKEN_KEY, token);
  if (email) storage()?.setItem(EMAIL_KEY, email);
  return true;
}

function forget() {
  session.token = null;
  session.project = null;
  session.email = null;
  session.actor = null;
  storage()?.removeItem(TOKEN_KEY);
  storage()?.removeItem(EMAIL_KEY);
}

/** Signs out. An ended session keeps the address, so signing in again returns to it. */
function signOut(message, { keepPlace = false } = {}) {
  forget();
  flash(message ?? 'You have signed out.');
  if (!keepPlace && location.hash && location.hash !== '#/') {
    location.hash = '#/';
  } else {
    render();
  }
}

// ---------------------------------------------------------------------------------------------
// Requests

class ApiError extends Error {
  constructor(status, data, message, handled = false) {
    super(message);
    this.status = status;
    this.data = data;
    this.handled = handled;
  }
}

function serverMessage(data) {
  if (data && typeof data === 'object') return data.message ?? data.errors?.[0]?.message ?? '';
  return typeof data === 'string' ? data.slice(0, 300) : '';
}

function clean(message) {
  return String(message ?? '').replace(/^Invalid request: /, '');
}

function describe(status, data, retryAfter) {
  const msg = clean(serverMessage(data));
  const detail = msg ? `: ${msg.replace(/\.$/, '')}` : '';
  if (status === 503) {
    return `The service is unavailable right now (503)${detail}. Try again ${retryAfter ? `in ${retryAfter} s` : 'in a moment'}.`;
  }
  if (status >= 500) return `The server failed (${status})${detail}. Try again; if it keeps failing, tell whoever runs the service.`;
  if (status === 403) return `Your account may not do this (403)${detail}.`;
  if (status === 413) return 'That is more data than the service accepts (413).';
  if (status === 429) return `Too many requests (429). Try again ${retryAfter ? `in ${retryAfter} s` : 'in a moment'}.`;
  return msg || `The request failed (${status}).`;
}

/** One JSON request; resolves to the answer's JSON, rejects with an ApiError. */
async function request(method, path, body, { auth = true } = {}) {
  const headers = { Accept: 'application/json' };
  if (auth) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  busyStart();
  try {
    let res;
    let text;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: abort.signal,
        credentials: 'omit',
        cache: 'no-store',
      });
      text = await res.text();
    } catch {
      throw new ApiError(
        0,
        null,
        abort.signal.aborted
          ? `The server did not answer within ${TIMEOUT_MS / 1000} s. Try again.`
          : 'Cannot reach the server. Check the connection and try again.',
      );
    }
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    if (res.ok) return data;
    if (res.status === 401 && auth) {
      signOut('Your session has ended. Sign in again.', { keepPlace: true });
      throw new ApiError(401, data, 'Your session has ended.', true);
    }
    throw new ApiError(res.status, data, describe(res.status, data, res.headers.get('Retry-After')));
  } finally {
    clearTimeout(timer);
    busyEnd();
  }
}

const enc = encodeURIComponent;
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.append(k, String(v));
  }
  return q.toString();
}
const projectGroup = (id) => `/${enc(session.project)}/customer-groups/${enc(id)}`;

/** The API field an admin- or project-family error is about, if any. */
function fieldOf(error) {
  const data = error?.data;
  const message = serverMessage(data);
  const named = /[Ff]ield '([a-z_0-9]+)/.exec(message);
  if (named) return named[1];
  if (/Invalid email|^Customer with email/.test(message)) return 'email';
  if (/^Customer group with name/.test(message)) return 'name';
  const first = data?.errors?.[0];
  if (typeof first?.field === 'string') return first.field;
  const detail = /^(\w+):/.exec(first?.detailedErrorMessage ?? '');
  return detail ? detail[1] : null;
}

/** The message to show beside a field: the server's, with the field named by its label. */
function fieldMessage(error, form, name) {
  let msg = clean(serverMessage(error.data)) || error.message;
  const label = form.querySelector(`[data-field="${name}"] label`)?.textContent;
  if (label) msg = msg.replace(/[Ff]ield '[a-z_0-9]+'/, label);
  return msg;
}

/** Routes a failed write's error to its field, else to the form. */
function reportTo(form, error) {
  if (error.handled) return;
  const name = error.status >= 400 && error.status < 500 ? fieldOf(error) : null;
  if (name && form.querySelector(`[data-field="${name}"]`)) {
    showError(form, name, fieldMessage(error, form, name));
  } else {
    showError(form, null, error.message);
  }
}

/** Reports a failed action that has no form (remove, delete…). */
function report(error) {
  if (!error.handled) showAlert(error.message);
}

// ---------------------------------------------------------------------------------------------
// Routing: #/customers, #/customers/new, #/customers/{id}, #/groups, #/groups/{id}

function parseHash() {
  const raw = location.hash.replace(/^#/, '');
  const [path, search = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, params: new URLSearchParams(search) };
}

function hashFor(path, params = {}) {
  const q = query(params);
  return `#${path}${q ? `?${q}` : ''}`;
}

function go(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function pageOffset(params) {
  const n = Number.parseInt(params.get('offset') ?? '0', 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

let generation = 0;

async function render() {
  const gen = ++generation;
  const message = flashText;
  flashText = null;
  const signedIn = Boolean(session.token);
  $('top').hidden = !signedIn;
  $('who').textContent = signedIn ? `${session.email ?? 'Signed in'} · project ${session.project}` : '';
  if (!signedIn) {
    mount(gen, signInView(), 'Sign in', message);
    return;
  }
  const { parts, params } = parseHash();
  const [section, id, extra] = parts;
  for (const [nav, name] of [['nav-customers', 'customers'], ['nav-groups', 'groups']]) {
    if (section === name) $(nav).setAttribute('aria-current', 'page');
    else $(nav).removeAttribute('aria-current');
  }
  let view;
  if (section === 'customers' && !id) view = () => customersView(params);
  else if (section === 'customers' && id === 'new' && !extra) view = () => newCustomerView();
  else if (section === 'customers' && !extra) view = () => customerView(id);
  else if (section === 'groups' && !id) view = () => groupsView(params);
  else if (section === 'groups' && !extra) view = () => groupView(id, params);
  else {
    location.replace('#/customers');
    return;
  }
  try {
    const [node, title] = await view();
    mount(gen, node, title, message);
  } catch (error) {
    if (gen !== generation || error.handled) return;
    mount(gen, failedView(error), error.status === 404 ? 'Not found' : 'Could not load', message);
  }
}

/** Shows a rendered view, with the message its action left (the notice), if any. */
function mount(gen, node, title, message) {
  if (gen !== generation) return; // a newer navigation won
  clearAlert();
  notice(message);
  main.replaceChildren(node);
  document.title = `${title} — xclade admin`;
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
  }
  window.scrollTo(0, 0);
}

function failedView(error) {
  if (error.status === 404) {
    return h(
      'section',
      { class: 'panel' },
      h('h1', null, 'Not found'),
      h('p', null, clean(serverMessage(error.data)) || 'This item does not exist (any more).'),
      h('p', null, h('a', { href: '#/customers' }, 'Back to the customers')),
    );
  }
  return h(
    'section',
    { class: 'panel' },
    h('h1', null, 'This page could not be loaded'),
    h('p', { class: 'form-error', role: 'alert' }, error.message),
    h('button', { type: 'button', class: 'button primary', onclick: () => render() }, 'Try again'),
  );
}

// ---------------------------------------------------------------------------------------------
// Views: sign in

function signInView() {
  const form = h(
    'form',
    { class: 'panel narrow', novalidate: true, 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    h('p', { class: 'muted' }, 'Customers and customer groups of your project. Use the admin user’s email and password.'),
    field({ label: 'Email', name: 'email', type: 'email', autocomplete: 'username' }),
    field({ label: 'Password', name: 'password', type: 'password', autocomplete: 'current-password' }),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Sign in')),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    const email = valueOf(form, 'email');
    const password = inputOf(form, 'password').value;
    if (!email) return showError(form, 'email', 'Enter your email.');
    if (!password) return showError(form, 'password', 'Enter your password.');
    return busyButton(form.querySelector('button[type=submit]'), async () => {
      try {
        const data = await request('POST', '/auth/user/emailpass', { email, password }, { auth: false });
        if (!adopt(data?.token, email)) {
          showError(form, null, 'The service answered without a usable token.');
          return;
        }
        const { parts } = parseHash();
        if (parts.length) render();
        else go('#/customers');
      } catch (error) {
        if (error.status === 401) showError(form, null, 'Invalid email or password.');
        else showError(form, null, error.message);
      }
    });
  });
  return form;
}

// ---------------------------------------------------------------------------------------------
// Views: customers

/** "Showing 21–40 of 57" with Previous/Next links to `hashAt(offset)`. */
function pager({ offset, limit, count, hashAt, label }) {
  if (count <= limit && offset === 0) return null;
  const first = count === 0 ? 0 : Math.min(offset + 1, count);
  const last = Math.min(offset + limit, count);
  const prev = offset > 0 ? hashAt(Math.max(0, offset - limit)) : null;
  const next = offset + limit < count ? hashAt(offset + limit) : null;
  const link = (hash, text, rel) =>
    hash ? h('a', { href: hash, class: 'button', rel }, text) : h('span', { class: 'button', 'aria-disabled': 'true' }, text);
  return h(
    'nav',
    { class: 'pager', 'aria-label': label },
    link(prev, '← Previous', 'prev'),
    h('span', { class: 'pager-text' }, offset >= count ? `past the end; ${count} in all` : `${first}–${last} of ${count}`),
    link(next, 'Next →', 'next'),
  );
}

function searchForm({ label, value, onSearch }) {
  const form = h(
    'form',
    { class: 'search', role: 'search', novalidate: true },
    field({ label, name: 'q', type: 'search', value }),
    h('button', { type: 'submit', class: 'button' }, 'Search'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onSearch(valueOf(form, 'q'));
  });
  return form;
}

async function customersView(params) {
  const q = params.get('q') ?? '';
  const offset = pageOffset(params);
  const page = await request(
    'GET',
    `/admin/customers?${query({ q, limit: PAGE_SIZE, offset, order: '-created_at', fields: LIST_FIELDS })}`,
  );
  const rows = page.customers.map((c) =>
    h(
      'tr',
      null,
      h('td', { dataset: { label: 'Name' } }, h('a', { href: `#/customers/${enc(c.id)}` }, fullName(c) || c.email)),
      h('td', { dataset: { label: 'Email' } }, c.email),
      h('td', { dataset: { label: 'Company' } }, c.company_name || '—'),
      h('td', { dataset: { label: 'Phone' } }, c.phone || '—'),
      h('td', { dataset: { label: 'Created' } }, when(c.created_at)),
    ),
  );
  const count = q
    ? `${plural(page.count, 'customer matches', 'customers match')} “${q}”`
    : plural(page.count, 'customer', 'customers');
  const node = h(
    'section',
    null,
    h(
      'div',
      { class: 'heading' },
      h('h1', null, 'Customers'),
      h('a', { href: '#/customers/new', class: 'button primary' }, 'New customer'),
    ),
    h(
      'div',
      { class: 'toolbar' },
      searchForm({
        label: 'Search customers',
        value: q,
        onSearch: (text) => go(hashFor('/customers', { q: text })),
      }),
      h('p', { class: 'count', id: 'customer-count' }, count),
    ),
    rows.length
      ? h(
          'table',
          { class: 'list', 'aria-describedby': 'customer-count' },
          h('caption', { class: 'visually-hidden' }, 'Customers'),
          h(
            'thead',
            null,
            h('tr', null, ['Name', 'Email', 'Company', 'Phone', 'Created'].map((t) => h('th', { scope: 'col' }, t))),
          ),
          h('tbody', null, rows),
        )
      : h(
          'p',
          { class: 'empty' },
          q ? 'No customer matches this search.' : 'No customers yet. ',
          q ? null : h('a', { href: '#/customers/new' }, 'Create the first one.'),
        ),
    pager({
      offset,
      limit: PAGE_SIZE,
      count: page.count,
      hashAt: (o) => hashFor('/customers', { q, offset: o }),
      label: 'Customer pages',
    }),
  );
  return [node, 'Customers'];
}

const CUSTOMER_FIELDS = [
  { label: 'Email', name: 'email', type: 'email', autocomplete: 'off' },
  { label: 'Company name', name: 'company_name' },
  { label: 'First name', name: 'first_name' },
  { label: 'Last name', name: 'last_name' },
  { label: 'Phone', name: 'phone', type: 'tel', inputmode: 'tel' },
];

async function newCustomerView() {
  const form = h(
    'form',
    { class: 'panel narrow', novalidate: true, 'aria-labelledby': 'new-customer-title' },
    h('h1', { id: 'new-customer-title' }, 'New customer'),
    h('p', { class: 'muted' }, 'All five fields are required by the service; a field left empty is not sent.'),
    CUSTOMER_FIELDS.map((f) => field(f)),
    formError(),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button primary' }, 'Create customer'),
      h('a', { href: '#/customers', class: 'button quiet' }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = { metadata: {} };
    for (const { name } of CUSTOMER_FIELDS) {
      const value = valueOf(form, name);
      if (value) body[name] = value;
    }
    return busyButton(form.querySelector('button[type=submit]'), async () => {
      try {
        const { customer } = await request('POST', '/admin/customers', body);
        flash(`Customer ${customer.email} created.`);
        go(`#/customers/${enc(customer.id)}`);
      } catch (error) {
        reportTo(form, error);
      }
    });
  });
  return [form, 'New customer'];
}

async function customerView(id) {
  const [{ customer: c }, groupPage] = await Promise.all([
    request('GET', `/admin/customers/${enc(id)}`),
    request('GET', `/admin/customer-groups?${query({ limit: 1000, order: 'name', fields: 'id,name' })}`),
  ]);
  const base = `/admin/customers/${enc(c.id)}`;
  const title = fullName(c) || c.email;

  // Details: every field, the five editable ones in a form.
  const details = h(
    'form',
    { class: 'panel', novalidate: true, 'aria-labelledby': 'details-title' },
    h('h2', { id: 'details-title' }, 'Details'),
    h('div', { class: 'grid' }, CUSTOMER_FIELDS.map((f) => field({ ...f, value: c[f.name] ?? '' }))),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'button primary' }, 'Save changes')),
  );
  details.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(details);
    const body = {};
    for (const { name } of CUSTOMER_FIELDS) {
      const value = valueOf(details, name);
      if (value !== (c[name] ?? '')) body[name] = value === '' && name !== 'email' ? null : value;
    }
    if (!Object.keys(body).length) {
      notice('Nothing to save: no field changed.');
      return undefined;
    }
    return busyButton(details.querySelector('button[type=submit]'), async () => {
      try {
        await request('POST', base, body);
        flash('Changes saved.');
        render();
      } catch (error) {
        reportTo(details, error);
      }
    });
  });

  const facts = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'facts-title' },
    h('h2', { id: 'facts-title' }, 'Record'),
    h(
      'dl',
      { class: 'facts' },
      fact('ID', h('code', null, c.id)),
      fact('Has an account', c.has_account ? 'Yes' : 'No'),
      fact('Created', when(c.created_at)),
      fact('Updated', when(c.updated_at)),
      fact('Created by', actorLabel(c.created_by)),
      fact('Default billing address', addressLabel(c, c.default_billing_address_id)),
      fact('Default shipping address', addressLabel(c, c.default_shipping_address_id)),
      fact('Metadata', h('pre', null, JSON.stringify(c.metadata ?? {}, null, 2))),
    ),
  );

  const node = h(
    'section',
    null,
    h('p', { class: 'crumbs' }, h('a', { href: '#/customers' }, '← Customers')),
    h(
      'div',
      { class: 'heading' },
      h('div', null, h('h1', null, title), h('p', { class: 'muted' }, c.email)),
      h(
        'button',
        {
          type: 'button',
          class: 'button danger',
          onclick: (event) => deleteCustomer(event.currentTarget, c),
        },
        'Delete customer',
      ),
    ),
    h('div', { class: 'columns' }, details, facts),
    groupsPanel(c, groupPage),
    addressesPanel(c, base),
  );
  return [node, title];
}

/** `created_by`: an admin user id or an API client id; "you" when it is the signed-in user. */
function actorLabel(actor) {
  if (!actor) return '—';
  if (actor === session.actor) return `you (${session.email ?? 'this admin user'})`;
  return h('code', null, actor);
}

function fact(term, value) {
  return h('div', null, h('dt', null, term), h('dd', null, value));
}

function addressLabel(c, id) {
  if (!id) return '—';
  const a = (c.addresses ?? []).find((x) => x.id === id);
  return a ? a.address_name || [a.address_1, a.city].filter(Boolean).join(', ') || 'Address' : id;
}

async function deleteCustomer(button, c) {
  const ok = await confirmDialog(
    `Delete the customer ${c.email}? They leave all their groups, and their email becomes free again.`,
    'Delete customer',
  );
  if (!ok) return;
  await busyButton(button, async () => {
    try {
      await request('DELETE', `/admin/customers/${enc(c.id)}`);
      flash(`Customer ${c.email} deleted.`);
      go('#/customers');
    } catch (error) {
      report(error);
    }
  });
}

function groupsPanel(c, groupPage) {
  const base = `/admin/customers/${enc(c.id)}/customer-groups`;
  const member = new Set((c.groups ?? []).map((g) => g.id));
  const groups = [...(c.groups ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const list = groups.length
    ? h(
        'ul',
        { class: 'chips' },
        groups.map((g) =>
          h(
            'li',
            null,
            h('a', { href: `#/groups/${enc(g.id)}` }, g.name),
            h(
              'button',
              {
                type: 'button',
                class: 'button quiet small',
                'aria-label': `Remove from ${g.name}`,
                onclick: (event) =>
                  busyButton(event.currentTarget, async () => {
                    try {
                      await request('POST', base, { remove: [g.id] });
                      flash(`Removed from ${g.name}.`);
                      render();
                    } catch (error) {
                      report(error);
                    }
                  }),
              },
              'Remove',
            ),
          ),
        ),
      )
    : h('p', { class: 'empty' }, 'Not in any group.');

  const choices = groupPage.customer_groups.filter((g) => !member.has(g.id));
  let add;
  if (!groupPage.count) {
    add = h('p', { class: 'muted' }, 'There are no groups yet. ', h('a', { href: '#/groups' }, 'Create one on the Groups page.'));
  } else if (!choices.length) {
    add = h('p', { class: 'muted' }, 'The customer is in every group.');
  } else {
    const selectId = nextId('f-group');
    add = h(
      'form',
      { class: 'inline-form', novalidate: true },
      h(
        'div',
        { class: 'field', dataset: { field: 'group' } },
        h('label', { for: selectId }, 'Add to group'),
        h(
          'select',
          { id: selectId, name: 'group', 'aria-describedby': `${selectId}-error` },
          h('option', { value: '' }, 'Choose a group…'),
          choices.map((g) => h('option', { value: g.id }, g.name)),
        ),
        h('p', { class: 'field-error', id: `${selectId}-error`, hidden: true }),
      ),
      h('button', { type: 'submit', class: 'button primary' }, 'Add'),
      formError(),
    );
    add.addEventListener('submit', (event) => {
      event.preventDefault();
      clearErrors(add);
      const select = add.querySelector('select');
      const id = select.value;
      if (!id) return showError(add, 'group', 'Choose a group first.');
      const name = select.selectedOptions[0]?.textContent ?? 'the group';
      return busyButton(add.querySelector('button[type=submit]'), async () => {
        try {
          await request('POST', base, { add: [id] });
          flash(`Added to ${name}.`);
          render();
        } catch (error) {
          reportTo(add, error);
        }
      });
    });
  }
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'groups-title' },
    h('h2', { id: 'groups-title' }, `Groups (${groups.length})`),
    list,
    add,
  );
}

const ADDRESS_FIELDS = [
  { label: 'Address name', name: 'address_name', hint: 'e.g. Home, Office' },
  { label: 'Company', name: 'company' },
  { label: 'First name', name: 'first_name' },
  { label: 'Last name', name: 'last_name' },
  { label: 'Address line 1', name: 'address_1' },
  { label: 'Address line 2', name: 'address_2' },
  { label: 'Postal code', name: 'postal_code' },
  { label: 'City', name: 'city' },
  { label: 'Province', name: 'province', hint: 'e.g. us-ca' },
  { label: 'Country code', name: 'country_code', hint: 'Two letters, e.g. us' },
  { label: 'Phone', name: 'phone', type: 'tel' },
];

function addressesPanel(c, base) {
  const addresses = c.addresses ?? [];
  const panel = h('section', { class: 'panel', 'aria-labelledby': 'addresses-title' });
  const slot = h('div');
  const addButton = h(
    'button',
    {
      type: 'button',
      class: 'button',
      onclick: () => {
        slot.replaceChildren(addressForm(c, null, base, () => slot.replaceChildren()));
        slot.querySelector('input')?.focus();
      },
    },
    'Add address',
  );
  panel.append(
    h('div', { class: 'heading' }, h('h2', { id: 'addresses-title' }, `Addresses (${addresses.length})`), addButton),
    slot,
    addresses.length
      ? h('ul', { class: 'cards' }, addresses.map((a) => addressCard(c, a, base)))
      : h('p', { class: 'empty' }, 'No addresses.'),
  );
  return panel;
}

function addressCard(c, a, base) {
  const item = h('li', { class: 'card' });
  const path = `${base}/addresses/${enc(a.id)}`;
  const label = a.address_name || 'Address';
  const act = (text, aria, work) =>
    h(
      'button',
      {
        type: 'button',
        class: 'button quiet small',
        'aria-label': aria,
        onclick: (event) => busyButton(event.currentTarget, work),
      },
      text,
    );
  const setDefault = (key, text) => async () => {
    try {
      await request('POST', path, { [key]: true });
      flash(`${label} is now the default ${text} address.`);
      render();
    } catch (error) {
      report(error);
    }
  };
  const show = () =>
    item.replaceChildren(
      h(
        'div',
        { class: 'card-head' },
        h('h3', null, label),
        a.is_default_billing ? h('span', { class: 'badge' }, 'Default billing') : null,
        a.is_default_shipping ? h('span', { class: 'badge' }, 'Default shipping') : null,
      ),
      h(
        'address',
        null,
        [
          a.company,
          [a.first_name, a.last_name].filter(Boolean).join(' '),
          a.address_1,
          a.address_2,
          [a.postal_code, a.city].filter(Boolean).join(' '),
          [a.province, a.country_code ? a.country_code.toUpperCase() : null].filter(Boolean).join(', '),
          a.phone,
        ]
          .filter(Boolean)
          .map((line) => h('span', { class: 'line' }, line)),
      ),
      h(
        'div',
        { class: 'actions' },
        act('Edit', `Edit ${label}`, async () => {
          item.replaceChildren(addressForm(c, a, base, show));
          item.querySelector('input')?.focus();
        }),
        a.is_default_billing ? null : act('Default billing', `Make ${label} the default billing address`, setDefault('is_default_billing', 'billing')),
        a.is_default_shipping ? null : act('Default shipping', `Make ${label} the default shipping address`, setDefault('is_default_shipping', 'shipping')),
        act('Delete', `Delete ${label}`, async () => {
          if (!(await confirmDialog(`Delete the address “${label}”?`, 'Delete address'))) return;
          try {
            await request('DELETE', path);
            flash(`Address ${label} deleted.`);
            render();
          } catch (error) {
            report(error);
          }
        }),
      ),
    );
  show();
  return item;
}

function addressForm(c, a, base, onCancel) {
  const editing = Boolean(a);
  const form = h(
    'form',
    { class: 'card form-card', novalidate: true, 'aria-label': editing ? 'Edit address' : 'New address' },
    h('h3', null, editing ? 'Edit address' : 'New address'),
    h('div', { class: 'grid' }, ADDRESS_FIELDS.map((f) => field({ ...f, value: a?.[f.name] ?? '' }))),
    checkbox({ label: 'Default billing address', name: 'is_default_billing', checked: a?.is_default_billing }),
    checkbox({ label: 'Default shipping address', name: 'is_default_shipping', checked: a?.is_default_shipping }),
    formError(),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button primary' }, editing ? 'Save address' : 'Add address'),
      h('button', { type: 'button', class: 'button quiet', onclick: onCancel }, 'Cancel'),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = {};
    for (const { name } of ADDRESS_FIELDS) {
      const value = valueOf(form, name);
      if (editing) {
        if (value !== (a[name] ?? '')) body[name] = value === '' ? null : value;
      } else if (value) {
        body[name] = value;
      }
    }
    for (const name of ['is_default_billing', 'is_default_shipping']) {
      const checked = inputOf(form, name).checked;
      if (!editing || checked !== Boolean(a[name])) body[name] = checked;
    }
    return busyButton(form.querySelector('button[type=submit]'), async () => {
      try {
        const path = editing ? `${base}/addresses/${enc(a.id)}` : `${base}/addresses`;
        await request('POST', path, body);
        flash(editing ? 'Address saved.' : 'Address added.');
        render();
      } catch (error) {
        reportTo(form, error);
      }
    });
  });
  return form;
}

// ---------------------------------------------------------------------------------------------
// Views: groups

async function groupsView(params) {
  const q = params.get('q') ?? '';
  const offset = pageOffset(params);
  const page = await request('GET', `/admin/customer-groups?${query({ q, limit: PAGE_SIZE, offset, order: 'name' })}`);
  // Member counts: the customer list filtered by group, counted only (limit=0).
  const counts = await Promise.all(
    page.customer_groups.map((g) =>
      request('GET', `/admin/customers?${query({ groups: g.id, limit: 0, fields: 'id' })}`).then((r) => r.count),
    ),
  );

  const create = h(
    'form',
    { class: 'inline-form', novalidate: true, 'aria-label': 'Create a group' },
    field({ label: 'New group name', name: 'name' }),
    h('button', { type: 'submit', class: 'button primary' }, 'Create group'),
    formError(),
  );
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(create);
    const name = valueOf(create, 'name');
    if (!name) return showError(create, 'name', 'Enter a name for the group.');
    return busyButton(create.querySelector('button[type=submit]'), async () => {
      try {
        await request('POST', '/admin/customer-groups', { name });
        flash(`Group “${name}” created.`);
        go(hashFor('/groups', { q }));
      } catch (error) {
        reportTo(create, error);
      }
    });
  });

  const rows = page.customer_groups.map((g, i) =>
    h(
      'tr',
      null,
      h('td', { dataset: { label: 'Name' } }, h('a', { href: `#/groups/${enc(g.id)}` }, g.name)),
      h('td', { dataset: { label: 'Members' }, class: 'number' }, String(counts[i])),
      h('td', { dataset: { label: 'Last changed' } }, when(g.updated_at)),
    ),
  );
  const node = h(
    'section',
    null,
    h('div', { class: 'heading' }, h('h1', null, 'Customer groups')),
    h('div', { class: 'panel' }, create),
    h(
      'div',
      { class: 'toolbar' },
      searchForm({ label: 'Search groups', value: q, onSearch: (text) => go(hashFor('/groups', { q: text })) }),
      h(
        'p',
        { class: 'count', id: 'group-count' },
        q ? `${plural(page.count, 'group matches', 'groups match')} “${q}”` : plural(page.count, 'group', 'groups'),
      ),
    ),
    rows.length
      ? h(
          'table',
          { class: 'list', 'aria-describedby': 'group-count' },
          h('caption', { class: 'visually-hidden' }, 'Customer groups'),
          h('thead', null, h('tr', null, ['Name', 'Members', 'Last changed'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, rows),
        )
      : h('p', { class: 'empty' }, q ? 'No group matches this search.' : 'No groups yet.'),
    pager({
      offset,
      limit: PAGE_SIZE,
      count: page.count,
      hashAt: (o) => hashFor('/groups', { q, offset: o }),
      label: 'Group pages',
    }),
  );
  return [node, 'Customer groups'];
}

async function groupView(id, params) {
  const offset = pageOffset(params);
  const [group, members] = await Promise.all([
    request('GET', projectGroup(id)),
    request(
      'GET',
      `/admin/customers?${query({ groups: id, limit: PAGE_SIZE, offset, order: 'email', fields: 'id,email,first_name,last_name,company_name' })}`,
    ),
  ]);
  // What the page showed: the rename and the delete send this version.
  let shown = group;
  const heading = h('h1', null, group.name);
  const meta = h('p', { class: 'muted' });
  const showMeta = () => {
    meta.textContent = [`Version ${shown.version}`, shown.key ? `key ${shown.key}` : null, `last changed ${when(shown.lastModifiedAt)}`]
      .filter(Boolean)
      .join(' · ');
  };
  showMeta();
  const conflict = h('div', { class: 'conflict', role: 'alert', hidden: true });

  const rename = h(
    'form',
    { class: 'inline-form', novalidate: true, 'aria-label': 'Rename the group' },
    field({ label: 'Name', name: 'name', value: group.name }),
    h('button', { type: 'submit', class: 'button primary' }, 'Rename'),
    formError(),
  );
  rename.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(rename);
    conflict.hidden = true;
    const name = valueOf(rename, 'name');
    if (!name) return showError(rename, 'name', 'Enter a name.');
    if (name === shown.name) {
      notice('The name is unchanged.');
      return undefined;
    }
    return busyButton(rename.querySelector('button[type=submit]'), async () => {
      try {
        const updated = await request('POST', projectGroup(id), {
          version: shown.version,
          actions: [{ action: 'changeName', name }],
        });
        flash(`Renamed to “${updated.name}”.`);
        render();
      } catch (error) {
        if (error.status !== 409) {
          reportTo(rename, error);
          return;
        }
        await showConflict(`Your new name “${name}” was not saved`);
      }
    });
  });

  // A 409: someone changed the group since the page showed it. Show the current state, keep
  // the user's intent visible, overwrite nothing.
  async function showConflict(what) {
    let current = null;
    try {
      current = await request('GET', projectGroup(id));
    } catch (error) {
      if (error.handled) return;
    }
    conflict.replaceChildren(
      h('strong', null, 'Someone else changed this group while you were looking at it. '),
      current
        ? `Its name is now “${current.name}” (version ${current.version}). ${what}; the page now shows the current group — try again if you still want to.`
        : `${what}. Reload the page to see the current group.`,
    );
    conflict.hidden = false;
    if (current) {
      shown = current;
      heading.textContent = current.name;
      inputOf(rename, 'name').value = current.name;
      document.title = `${current.name} — xclade admin`;
      showMeta();
    }
    conflict.setAttribute('tabindex', '-1');
    conflict.focus();
  }

  const remove = h(
    'button',
    {
      type: 'button',
      class: 'button danger',
      onclick: async (event) => {
        const button = event.currentTarget;
        const ok = await confirmDialog(
          `Delete the group “${shown.name}”? ${
            members.count ? `Its ${plural(members.count, 'member leaves', 'members leave')} the group; the customers are kept.` : 'It has no members.'
          }`,
          'Delete group',
        );
        if (!ok) return;
        await busyButton(button, async () => {
          try {
            await request('DELETE', `${projectGroup(id)}?${query({ version: shown.version })}`);
            flash(`Group “${shown.name}” deleted.`);
            go('#/groups');
          } catch (error) {
            if (error.status === 409) await showConflict('The group was not deleted');
            else report(error);
          }
        });
      },
    },
    'Delete group',
  );

  const memberRows = members.customers.map((c) =>
    h(
      'tr',
      null,
      h('td', { dataset: { label: 'Email' } }, h('a', { href: `#/customers/${enc(c.id)}` }, c.email)),
      h('td', { dataset: { label: 'Name' } }, fullName(c) || '—'),
      h('td', { dataset: { label: 'Company' } }, c.company_name || '—'),
      h(
        'td',
        { class: 'row-actions' },
        h(
          'button',
          {
            type: 'button',
            class: 'button quiet small',
            'aria-label': `Remove ${c.email} from the group`,
            onclick: (event) =>
              busyButton(event.currentTarget, async () => {
                try {
                  await request('POST', `/admin/customer-groups/${enc(id)}/customers`, { remove: [c.id] });
                  flash(`${c.email} removed from the group.`);
                  render();
                } catch (error) {
                  report(error);
                }
              }),
          },
          'Remove',
        ),
      ),
    ),
  );

  const node = h(
    'section',
    null,
    h('p', { class: 'crumbs' }, h('a', { href: '#/groups' }, '← Customer groups')),
    h('div', { class: 'heading' }, h('div', null, heading, meta), remove),
    conflict,
    h('div', { class: 'panel' }, rename),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'members-title' },
      h('h2', { id: 'members-title' }, `Members (${members.count})`),
      memberRows.length
        ? h(
            'table',
            { class: 'list' },
            h('caption', { class: 'visually-hidden' }, `Members of ${group.name}`),
            h(
              'thead',
              null,
              h('tr', null, ['Email', 'Name', 'Company'].map((t) => h('th', { scope: 'col' }, t)), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions'))),
            ),
            h('tbody', null, memberRows),
          )
        : h('p', { class: 'empty' }, 'No members yet.'),
      pager({
        offset,
        limit: PAGE_SIZE,
        count: members.count,
        hashAt: (o) => hashFor(`/groups/${enc(id)}`, { offset: o }),
        label: 'Member pages',
      }),
      addMemberForm(id),
    ),
  );
  return [node, group.name];
}

/** Finds customers by `q` and adds one to the group. */
function addMemberForm(groupId) {
  const results = h('ul', { class: 'results', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'inline-form', novalidate: true, role: 'search', 'aria-label': 'Find customers to add' },
    field({ label: 'Add a customer', name: 'q', type: 'search', hint: 'Email, name or company' }),
    h('button', { type: 'submit', class: 'button' }, 'Find'),
    formError(),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    clearErrors(form);
    const q = valueOf(form, 'q');
    return busyButton(form.querySelector('button[type=submit]'), async () => {
      try {
        const page = await request('GET', `/admin/customers?${query({ q, limit: 10, order: 'email', fields: 'id,email,first_name,last_name' })}`);
        results.replaceChildren(
          ...(page.customers.length
            ? page.customers.map((c) =>
                h(
                  'li',
                  null,
                  h('span', null, c.email, fullName(c) ? h('span', { class: 'muted' }, ` · ${fullName(c)}`) : null),
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'button small',
                      'aria-label': `Add ${c.email} to the group`,
                      onclick: (e) =>
                        busyButton(e.currentTarget, async () => {
                          try {
                            await request('POST', `/admin/customer-groups/${enc(groupId)}/customers`, { add: [c.id] });
                            flash(`${c.email} added to the group.`);
                            render();
                          } catch (error) {
                            report(error);
                          }
                        }),
                    },
                    'Add',
                  ),
                ),
              )
            : [h('li', { class: 'empty' }, 'No customer matches.')]),
          page.count > page.customers.length
            ? h('li', { class: 'muted' }, `${page.count - page.customers.length} more match; refine the search.`)
            : [],
        );
      } catch (error) {
        reportTo(form, error);
      }
    });
  });
  return h('div', { class: 'add-member' }, form, results);
}

// ---------------------------------------------------------------------------------------------
// The confirmation dialog

function confirmDialog(text, okLabel) {
  const dialog = $('confirm');
  $('confirm-text').textContent = text;
  $('confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    const listeners = new AbortController();
    const done = (answer) => {
      listeners.abort();
      if (dialog.open) dialog.close();
      resolve(answer);
    };
    const { signal } = listeners;
    $('confirm-ok').addEventListener('click', () => done(true), { signal });
    $('confirm-cancel').addEventListener('click', () => done(false), { signal });
    dialog.addEventListener('cancel', () => done(false), { signal }); // Escape
    dialog.addEventListener('close', () => done(false), { signal });
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}

// ---------------------------------------------------------------------------------------------
// Start

$('sign-out').addEventListener('click', () => signOut());
$('alert-dismiss').addEventListener('click', clearAlert);
window.addEventListener('hashchange', () => render());

{
  const token = storage()?.getItem(TOKEN_KEY);
  if (token && !adopt(token, storage()?.getItem(EMAIL_KEY))) forget();
}
render();
