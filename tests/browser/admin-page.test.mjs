// The admin page (/app) in Debian's headless Chromium, driven by playwright-core, against the
// server and the fresh database tests/browser/run.sh prepared (project `app`, an admin user, an
// API client). The steps share one signed-in tab and run in order, like a person's session:
// sign in, create customers, field errors, groups and memberships, rename and a stale rename,
// addresses, paging and search, slow and failing requests, narrow layout and screenshots,
// delete, sign out.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

function required(name) {
  const value = (process.env[name] ?? '').trim();
  if (!value) {
    console.error(`${name} is not set: run this suite through tests/browser/run.sh`);
    process.exit(4);
  }
  return value;
}

const env = {
  apiUrl: required('XCLADE_API_URL').replace(/\/$/, ''),
  projectKey: required('XCLADE_PROJECT_KEY'),
  adminEmail: required('XCLADE_ADMIN_EMAIL'),
  adminPassword: required('XCLADE_ADMIN_PASSWORD'),
  clientId: required('XCLADE_CLIENT_ID'),
  clientSecret: required('XCLADE_CLIENT_SECRET'),
  chromium: required('XCLADE_CHROMIUM'),
  screenshots: required('XCLADE_SCREENSHOT_DIR'),
  failures: (process.env.XCLADE_FAILURE_DIR ?? '').trim() || required('XCLADE_SCREENSHOT_DIR'),
};
const APP = `${env.apiUrl}/app`;
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };

// ---------------------------------------------------------------------------------------------
// The API, for arranging data and checking what the page did

async function call(method, path, { token, body, headers = {} } = {}) {
  const res = await fetch(`${env.apiUrl}${path}`, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  return { status: res.status, headers: res.headers, data };
}

async function adminToken() {
  const { status, data } = await call('POST', '/auth/user/emailpass', {
    body: { email: env.adminEmail, password: env.adminPassword },
  });
  assert.equal(status, 200, JSON.stringify(data));
  return data.token;
}

/** A token of the API client: "someone else" working on the same project through the API. */
async function clientToken() {
  const res = await fetch(`${env.apiUrl}/oauth/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${env.clientId}:${env.clientSecret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const data = await res.json();
  assert.equal(res.status, 200, JSON.stringify(data));
  return data.access_token;
}

async function customerByEmail(token, email) {
  const { data } = await call('GET', `/admin/customers?email=${encodeURIComponent(email)}`, { token });
  return data.customers[0] ?? null;
}

// ---------------------------------------------------------------------------------------------
// Browser helpers

let browser;
let context;
let page;
const requests = [];
const problems = [];

/** Presses Tab until `locator` has the focus: proves it is reachable by keyboard. */
async function tabTo(locator, max = 80) {
  for (let i = 0; i < max; i += 1) {
    if (await locator.evaluate((el) => el === document.activeElement).catch(() => false)) return;
    await page.keyboard.press('Tab');
  }
  assert.fail(`not reachable with Tab in ${max} steps: ${locator}`);
}

/** The error shown beside the field labelled `label` in `scope`: its text, checked to be the
 * field's description and to sit right under the input. */
async function errorBeside(scope, label) {
  const input = scope.getByLabel(label, { exact: true });
  await scope.locator('.field-error:not([hidden])').first().waitFor();
  const describedBy = (await input.getAttribute('aria-describedby')) ?? '';
  const errorId = describedBy.split(/\s+/).find((id) => id.endsWith('-error'));
  assert.ok(errorId, `${label} has an error description`);
  const error = scope.locator(`[id="${errorId}"]`);
  await error.waitFor({ state: 'visible' });
  assert.equal(await input.getAttribute('aria-invalid'), 'true', `${label} is marked invalid`);
  const [i, e] = [await input.boundingBox(), await error.boundingBox()];
  assert.ok(e.y >= i.y + i.height - 1 && e.y <= i.y + i.height + 40, `the error sits under ${label}: ${JSON.stringify({ i, e })}`);
  assert.ok(Math.abs(e.x - i.x) < 4, `the error is aligned with ${label}`);
  return (await error.textContent()).trim();
}

/** docs/screenshots/<name>-<width>.png (the whole page unless `fullPage` is false). */
async function shot(name, viewport = WIDE, { fullPage = true } = {}) {
  await page.setViewportSize(viewport);
  await page.evaluate(() => document.activeElement?.blur());
  await page.waitForTimeout(100);
  await page.screenshot({ path: join(env.screenshots, `${name}-${viewport.width}.png`), fullPage });
}

async function noHorizontalScroll(what) {
  const { scroll, client } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    client: document.documentElement.clientWidth,
  }));
  assert.ok(scroll <= client, `${what}: the page is ${scroll} px wide in a ${client} px window`);
}

const heading = () => page.locator('main h1');

before(async () => {
  mkdirSync(env.screenshots, { recursive: true });
  browser = await chromium.launch({
    executablePath: env.chromium,
    headless: process.env.XCLADE_BROWSER_HEADED !== '1',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run'],
  });
  context = await browser.newContext({ viewport: WIDE, locale: 'en-US', timezoneId: 'UTC' });
  context.setDefaultTimeout(15000);
  page = await context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
});

// Screenshot of the page when a step fails, for the log.
const cleanups = [];
async function step(name, body) {
  return test(name, async () => {
    try {
      await body();
    } catch (error) {
      for (const undo of cleanups.splice(0)) await undo().catch(() => {});
      const file = join(env.failures, `failure-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
      mkdirSync(env.failures, { recursive: true });
      await page?.screenshot({ path: file, fullPage: true }).catch(() => {});
      throw error;
    }
  });
}

// ---------------------------------------------------------------------------------------------

describe('the admin page', () => {
  // The database is fresh for each run (tests/browser/run.sh): plain names, no unique suffixes.
  const jane = { email: 'jane.doe@example.com', company: 'Doe Trading', first: 'Jane', last: 'Doe', phone: '+44 20 7946 0001' };
  let token;

  step('is served from the binary with its security headers', async () => {
    const res = await fetch(APP);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const js = await fetch(`${APP}/app.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  });

  step('sign in (keyboard only; a wrong password is refused)', async () => {
    await page.goto(APP);
    await heading().filter({ hasText: 'Sign in' }).waitFor();
    const email = page.getByLabel('Email', { exact: true });
    const password = page.getByLabel('Password', { exact: true });
    await tabTo(email);
    await page.keyboard.type(env.adminEmail);
    await page.keyboard.press('Tab');
    assert.ok(await password.evaluate((el) => el === document.activeElement), 'Tab goes from Email to Password');
    await page.keyboard.type('not the password');
    await page.keyboard.press('Enter');
    await page.getByText('Invalid email or password.').waitFor();

    await password.fill(env.adminPassword);
    await password.press('Enter');
    await heading().filter({ hasText: 'Customers' }).waitFor();
    await page.getByText(`project ${env.projectKey}`).waitFor();
    const stored = await page.evaluate(() => sessionStorage.getItem('xclade.admin.token'));
    assert.ok(stored, 'the token is kept in sessionStorage');
    const cookies = await context.cookies();
    assert.deepEqual(cookies, [], 'no cookie is set');
    token = await adminToken();
  });

  step('create a customer through the form and see it in the list', async () => {
    await page.getByRole('link', { name: 'New customer' }).click();
    await heading().filter({ hasText: 'New customer' }).waitFor();
    await page.getByLabel('Email', { exact: true }).fill(jane.email);
    await page.getByLabel('Company name', { exact: true }).fill(jane.company);
    await page.getByLabel('First name', { exact: true }).fill(jane.first);
    await page.getByLabel('Last name', { exact: true }).fill(jane.last);
    await page.getByLabel('Phone', { exact: true }).fill(jane.phone);
    await page.getByRole('button', { name: 'Create customer' }).click();
    await heading().filter({ hasText: 'Jane Doe' }).waitFor();
    await page.getByText(`Customer ${jane.email} created.`).waitFor();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await heading().filter({ hasText: 'Customers' }).waitFor();
    const row = page.locator('table.list tbody tr', { hasText: jane.email });
    await row.waitFor();
    assert.match(await row.textContent(), /Doe Trading/);
    assert.match(await page.locator('#customer-count').textContent(), /^1 customer$/);
  });

  step('server-side errors appear beside their field: missing, invalid and duplicate email', async () => {
    await page.goto(`${APP}#/customers/new`);
    await heading().filter({ hasText: 'New customer' }).waitFor();
    const form = page.locator('main form');

    // Only an email: the service names the first missing field.
    await form.getByLabel('Email', { exact: true }).fill('someone@example.com');
    await form.getByRole('button', { name: 'Create customer' }).click();
    assert.equal(await errorBeside(form, 'Company name'), 'Company name is required');

    await form.getByLabel('Email', { exact: true }).fill('not-an-email');
    await form.getByLabel('Company name', { exact: true }).fill('Acme');
    await form.getByLabel('First name', { exact: true }).fill('Sam');
    await form.getByLabel('Last name', { exact: true }).fill('Roe');
    await form.getByLabel('Phone', { exact: true }).fill('+1 555 0100');
    await form.getByRole('button', { name: 'Create customer' }).click();
    assert.equal(await errorBeside(form, 'Email'), 'Invalid email');
    assert.equal(await form.locator('[data-field="company_name"] .field-error').isHidden(), true, 'the old error is gone');

    // The same email in other letter case is the same customer (§2.2).
    await form.getByLabel('Email', { exact: true }).fill(jane.email.toUpperCase());
    await form.getByRole('button', { name: 'Create customer' }).click();
    assert.equal(await errorBeside(form, 'Email'), `Customer with email: ${jane.email.toUpperCase()} already exists.`);
    const { data } = await call('GET', `/admin/customers?q=${encodeURIComponent(jane.email)}`, { token });
    assert.equal(data.count, 1, 'nothing was created');
  });

  step('groups: create, duplicate name beside the field, member counts', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).click();
    await heading().filter({ hasText: 'Customer groups' }).waitFor();
    for (const name of ['Wholesale', 'Retail', 'VIP']) {
      await page.getByLabel('New group name', { exact: true }).fill(name);
      await page.getByRole('button', { name: 'Create group' }).click();
      await page.getByText(`Group “${name}” created.`).waitFor();
    }
    await page.getByLabel('New group name', { exact: true }).fill('Retail');
    await page.getByRole('button', { name: 'Create group' }).click();
    const create = page.locator('form[aria-label="Create a group"]');
    assert.equal(await errorBeside(create, 'New group name'), 'Customer group with name: Retail already exists.');
    const rows = page.locator('table.list tbody tr');
    assert.deepEqual(
      await rows.locator('td:first-child').allTextContents(),
      ['Retail', 'VIP', 'Wholesale'],
      'ordered by name',
    );
    assert.equal((await rows.filter({ hasText: 'Wholesale' }).locator('td.number').textContent()).trim(), '0');
  });

  step('add the customer to a group from the customer page and see them in its member list', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('link', { name: 'Jane Doe' }).click();
    await heading().filter({ hasText: 'Jane Doe' }).waitFor();
    await page.getByText('Not in any group.').waitFor();
    await page.getByLabel('Add to group', { exact: true }).selectOption({ label: 'Wholesale' });
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('Added to Wholesale.').waitFor();
    const chip = page.locator('.chips li', { hasText: 'Wholesale' });
    await chip.waitFor();
    // The same through the API (the seed's operation, §2.4).
    const c = await customerByEmail(token, jane.email);
    const { data } = await call('GET', `/admin/customers/${c.id}?fields=groups.name`, { token });
    assert.deepEqual(data.customer.groups.map((g) => g.name), ['Wholesale']);

    await chip.getByRole('link', { name: 'Wholesale' }).click();
    await heading().filter({ hasText: 'Wholesale' }).waitFor();
    await page.getByRole('heading', { name: 'Members (1)' }).waitFor();
    await page.locator('table.list tbody tr', { hasText: jane.email }).waitFor();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).click();
    const row = page.locator('table.list tbody tr', { hasText: 'Wholesale' });
    await row.waitFor();
    assert.equal((await row.locator('td.number').textContent()).trim(), '1', 'the member count');
  });

  step('add and remove members from the group page', async () => {
    const other = 'max.mustermann@example.com';
    const { status } = await call('POST', '/admin/customers', {
      token,
      body: { email: other, company_name: 'Muster GmbH', first_name: 'Max', last_name: 'Mustermann', phone: '+49 30 1234567', metadata: {} },
    });
    assert.equal(status, 200);
    await page.getByRole('link', { name: 'Retail' }).click();
    await heading().filter({ hasText: 'Retail' }).waitFor();
    await page.getByLabel('Add a customer', { exact: true }).fill('muster');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    await page.getByRole('button', { name: `Add ${other} to the group` }).click();
    await page.getByText(`${other} added to the group.`).waitFor();
    await page.getByRole('heading', { name: 'Members (1)' }).waitFor();
    await page.getByRole('button', { name: `Remove ${other} from the group` }).click();
    await page.getByText(`${other} removed from the group.`).waitFor();
    await page.getByRole('heading', { name: 'Members (0)' }).waitFor();
  });

  step('rename a group, then a stale rename shows the conflict and the current name', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).click();
    await page.getByRole('link', { name: 'Wholesale' }).click();
    await heading().filter({ hasText: 'Wholesale' }).waitFor();
    const rename = page.locator('form[aria-label="Rename the group"]');
    const groupId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]);
    const before = (await call('GET', `/${env.projectKey}/customer-groups/${groupId}`, { token })).data;

    await rename.getByLabel('Name', { exact: true }).fill('Wholesale EU');
    await rename.getByRole('button', { name: 'Rename' }).click();
    await page.getByText('Renamed to “Wholesale EU”.').waitFor();
    await heading().filter({ hasText: 'Wholesale EU' }).waitFor();
    await page.getByText(`Version ${before.version + 1}`).waitFor();

    // Someone else renames it through the project family while the page shows the old version.
    const other = await clientToken();
    const theirs = await call('POST', `/${env.projectKey}/customer-groups/${groupId}`, {
      token: other,
      body: { version: before.version + 1, actions: [{ action: 'changeName', name: 'Wholesale Europe' }] },
    });
    assert.equal(theirs.status, 200, JSON.stringify(theirs.data));

    await rename.getByLabel('Name', { exact: true }).fill('Wholesale (EU)');
    await rename.getByRole('button', { name: 'Rename' }).click();
    const conflict = page.locator('.conflict');
    await conflict.waitFor({ state: 'visible' });
    const text = await conflict.textContent();
    assert.match(text, /Someone else changed this group/);
    assert.match(text, /Its name is now “Wholesale Europe” \(version \d+\)/);
    assert.match(text, /“Wholesale \(EU\)” was not saved/);
    await heading().filter({ hasText: 'Wholesale Europe' }).waitFor();
    assert.equal(await rename.getByLabel('Name', { exact: true }).inputValue(), 'Wholesale Europe');
    const now = (await call('GET', `/${env.projectKey}/customer-groups/${groupId}`, { token })).data;
    assert.equal(now.name, 'Wholesale Europe', 'nothing was overwritten');
    assert.equal(now.version, theirs.data.version);

    // Knowing the current state, the person may rename again: it now carries the new version.
    await rename.getByLabel('Name', { exact: true }).fill('Wholesale');
    await rename.getByRole('button', { name: 'Rename' }).click();
    await page.getByText('Renamed to “Wholesale”.').waitFor();
  });

  step('addresses: add, default billing, edit, delete', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('link', { name: 'Jane Doe' }).click();
    await heading().filter({ hasText: 'Jane Doe' }).waitFor();
    const addresses = page.locator('section[aria-labelledby="addresses-title"]');

    await addresses.getByRole('button', { name: 'Add address' }).click();
    let form = addresses.locator('form[aria-label="New address"]');
    await form.getByLabel('Address name', { exact: true }).fill('Office');
    await form.getByLabel('Company', { exact: true }).fill(jane.company);
    await form.getByLabel('Address line 1', { exact: true }).fill('1 Canada Square');
    await form.getByLabel('Postal code', { exact: true }).fill('E14 5AB');
    await form.getByLabel('City', { exact: true }).fill('London');
    await form.getByLabel('Country code', { exact: true }).fill('gb');
    await form.getByLabel('Default shipping address', { exact: true }).check();
    await form.getByRole('button', { name: 'Add address' }).click();
    await page.getByText('Address added.').waitFor();

    await addresses.getByRole('button', { name: 'Add address' }).click();
    form = addresses.locator('form[aria-label="New address"]');
    await form.getByLabel('Address name', { exact: true }).fill('Home');
    await form.getByLabel('Address line 1', { exact: true }).fill('221B Baker Street');
    await form.getByLabel('City', { exact: true }).fill('London');
    await form.getByLabel('Country code', { exact: true }).fill('gb');
    await form.getByRole('button', { name: 'Add address' }).click();
    await page.getByText('Address added.').waitFor();
    await page.getByRole('heading', { name: 'Addresses (2)' }).waitFor();

    await addresses.getByRole('button', { name: 'Make Home the default billing address' }).click();
    await page.getByText('Home is now the default billing address.').waitFor();
    const home = addresses.locator('li.card', { hasText: 'Home' });
    await home.getByText('Default billing').waitFor();

    await addresses.getByRole('button', { name: 'Edit Office' }).click();
    form = addresses.locator('form[aria-label="Edit address"]');
    await form.getByLabel('Address line 2', { exact: true }).fill('Level 39');
    await form.getByRole('button', { name: 'Save address' }).click();
    await page.getByText('Address saved.').waitFor();
    await addresses.locator('li.card', { hasText: 'Level 39' }).waitFor();

    const c = await customerByEmail(token, jane.email);
    const { data } = await call('GET', `/admin/customers/${c.id}`, { token });
    const byName = Object.fromEntries(data.customer.addresses.map((a) => [a.address_name, a]));
    assert.equal(data.customer.default_billing_address_id, byName.Home.id);
    assert.equal(data.customer.default_shipping_address_id, byName.Office.id);
    assert.equal(byName.Office.address_2, 'Level 39');

    // A third one to delete, with the confirmation.
    await addresses.getByRole('button', { name: 'Add address' }).click();
    form = addresses.locator('form[aria-label="New address"]');
    await form.getByLabel('Address name', { exact: true }).fill('Old flat');
    await form.getByRole('button', { name: 'Add address' }).click();
    await page.getByRole('heading', { name: 'Addresses (3)' }).waitFor();
    await addresses.getByRole('button', { name: 'Delete Old flat' }).click();
    const dialog = page.locator('dialog#confirm');
    await dialog.waitFor({ state: 'visible' });
    await dialog.getByRole('button', { name: 'Delete address' }).click();
    await page.getByText('Address Old flat deleted.').waitFor();
    await page.getByRole('heading', { name: 'Addresses (2)' }).waitFor();
  });

  step('edit a customer; a bad email is shown beside the field', async () => {
    const details = page.locator('form[aria-labelledby="details-title"]');
    await details.getByLabel('Phone', { exact: true }).fill('+44 20 7946 0999');
    await details.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Changes saved.').waitFor();
    assert.equal(await details.getByLabel('Phone', { exact: true }).inputValue(), '+44 20 7946 0999');
    await details.getByLabel('Email', { exact: true }).fill('jane@');
    await details.getByRole('button', { name: 'Save changes' }).click();
    assert.equal(await errorBeside(details, 'Email'), 'Invalid email');
  });

  step('long lists page, search narrows them', async () => {
    const names = ['Olivia Martin', 'Liam Wilson', 'Emma Clarke', 'Noah Patel', 'Ava Schmidt', 'Lucas Rossi', 'Mia Novak',
      'Ethan Dubois', 'Sofia García', 'Leo Jensen', 'Chloe Tanaka', 'Henry Walsh', 'Isla Murphy', 'Oscar Lindqvist',
      'Grace Kowalski', 'Jack Moreau', 'Ella Fischer', 'Hugo Silva', 'Lily Andersen', 'Adam Horvat', 'Zoe Bianchi',
      'Finn Becker', 'Nora Costa', 'Theo Larsen'];
    const companies = ['Northwind', 'Contoso', 'Fabrikam', 'Tailspin Toys', 'Wingtip', 'Litware'];
    for (const [i, name] of names.entries()) {
      const [first, last] = name.split(' ');
      const { status, data } = await call('POST', '/admin/customers', {
        token,
        body: {
          email: `${first}.${last}@example.com`.toLowerCase().normalize('NFD').replace(/[\u0300-\u036f]/g, ''),
          company_name: companies[i % companies.length],
          first_name: first,
          last_name: last,
          phone: `+1 555 01${String(i).padStart(2, '0')}`,
          metadata: {},
        },
      });
      assert.equal(status, 200, JSON.stringify(data));
    }
    const total = (await call('GET', '/admin/customers?limit=0', { token })).data.count;
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await heading().filter({ hasText: 'Customers' }).waitFor();
    const pages = page.getByRole('navigation', { name: 'Customer pages' });
    await pages.getByText(`1–20 of ${total}`).waitFor();
    assert.equal(await page.locator('table.list tbody tr').count(), 20);
    await pages.getByRole('link', { name: 'Next →' }).click();
    await pages.getByText(`21–${Math.min(40, total)} of ${total}`).waitFor();
    assert.equal(await page.locator('table.list tbody tr').count(), total - 20);
    await pages.getByRole('link', { name: '← Previous' }).click();
    await pages.getByText(`1–20 of ${total}`).waitFor();

    await page.getByLabel('Search customers', { exact: true }).fill('fabrikam');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#customer-count').filter({ hasText: /customers match “fabrikam”/ }).waitFor();
    assert.equal(await page.locator('table.list tbody tr').count(), 4);
    await page.getByLabel('Search customers', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await pages.getByText(`1–20 of ${total}`).waitFor();
  });

  step('a slow request shows the spinner; a 503 shows a message and can be retried', async () => {
    let release;
    const held = new Promise((resolve) => {
      release = resolve;
    });
    const pattern = /\/admin\/customer-groups\?/;
    cleanups.push(() => page.unroute(pattern));
    await page.route(pattern, async (route) => {
      await held;
      await route.fulfill({
        status: 503,
        headers: { 'Content-Type': 'application/json', 'Retry-After': '1' },
        body: JSON.stringify({ type: 'database_error', message: 'The database is unavailable.', code: 'api_error' }),
      });
    });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Groups' }).click();
    await page.locator('#busy').waitFor({ state: 'visible' });
    assert.equal(await page.locator('main').getAttribute('aria-busy'), 'true');
    release();
    const message = page.getByText(/The service is unavailable right now \(503\): The database is unavailable\. Try again in 1 s\./);
    await message.waitFor();
    await page.locator('#busy').waitFor({ state: 'hidden' });
    await page.unroute(pattern);
    await page.getByRole('button', { name: 'Try again' }).click();
    await heading().filter({ hasText: 'Customer groups' }).waitFor();

    // A server that cannot be reached at all.
    await page.route(pattern, (route) => route.abort('connectionrefused'));
    await page.getByLabel('Search groups', { exact: true }).fill('a');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('Cannot reach the server. Check the connection and try again.').waitFor();
    await page.unroute(pattern);
  });

  step('the layout works at 1280 and 390 px; screenshots', async () => {
    // Some memberships, so that the group page has members to show.
    const groups = (await call('GET', '/admin/customer-groups?limit=100', { token })).data.customer_groups;
    const vip = groups.find((g) => g.name === 'VIP');
    const wholesale = groups.find((g) => g.name === 'Wholesale');
    const some = (await call('GET', '/admin/customers?limit=8&order=email&fields=id', { token })).data.customers;
    await call('POST', `/admin/customer-groups/${wholesale.id}/customers`, { token, body: { add: some.slice(0, 6).map((c) => c.id) } });
    const c = await customerByEmail(token, jane.email);
    await call('POST', `/admin/customers/${c.id}/customer-groups`, { token, body: { add: [vip.id] } });

    await page.goto(`${APP}#/customers`);
    await heading().filter({ hasText: 'Customers' }).waitFor();
    await shot('customers', WIDE);
    await shot('customers', NARROW, { fullPage: false }); // one screen of a long list
    await noHorizontalScroll('customer list at 390 px');

    await page.setViewportSize(WIDE);
    await page.goto(`${APP}#/customers/${c.id}`);
    await heading().filter({ hasText: 'Jane Doe' }).waitFor();
    await shot('customer', WIDE);
    await shot('customer', NARROW);
    await noHorizontalScroll('customer page at 390 px');

    await page.setViewportSize(WIDE);
    await page.goto(`${APP}#/groups/${wholesale.id}`);
    await heading().filter({ hasText: 'Wholesale' }).waitFor();
    await page.getByRole('heading', { name: /^Members \(7\)$/ }).waitFor();
    await shot('group', WIDE);
    await shot('group', NARROW);
    await noHorizontalScroll('group page at 390 px');

    // At 390 px the navigation and the sign-out button stay usable.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Customers' }).click();
    await heading().filter({ hasText: 'Customers' }).waitFor();
    await noHorizontalScroll('customer list after navigation at 390 px');
    await page.setViewportSize(WIDE);
  });

  step('delete a customer (with a confirmation that can be cancelled by keyboard)', async () => {
    await page.getByLabel('Search customers', { exact: true }).fill('jane');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.locator('#customer-count').filter({ hasText: '1 customer matches “jane”' }).waitFor();
    await page.getByRole('link', { name: 'Jane Doe' }).click();
    await heading().filter({ hasText: 'Jane Doe' }).waitFor();
    const remove = page.getByRole('button', { name: 'Delete customer' });
    await tabTo(remove);
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog#confirm');
    await dialog.waitFor({ state: 'visible' });
    assert.match(await dialog.textContent(), new RegExp(`Delete the customer ${jane.email.replace(/\./g, '\\.')}`));
    assert.ok(await dialog.getByRole('button', { name: 'Cancel' }).evaluate((el) => el === document.activeElement), 'Cancel has the focus');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.ok(await customerByEmail(token, jane.email), 'cancelled: still there');

    await remove.click();
    await dialog.getByRole('button', { name: 'Delete customer' }).click();
    await page.getByText(`Customer ${jane.email} deleted.`).waitFor();
    await heading().filter({ hasText: 'Customers' }).waitFor();
    assert.equal(await page.locator('table.list tbody tr', { hasText: jane.email }).count(), 0);
    assert.equal(await customerByEmail(token, jane.email), null, 'gone from the API too');
    const wholesale = (await call('GET', '/admin/customer-groups?name=Wholesale', { token })).data.customer_groups[0];
    const members = (await call('GET', `/admin/customers?groups=${wholesale.id}&limit=0`, { token })).data.count;
    assert.equal(members, 6, 'a deleted customer leaves its groups');
  });

  step('sign out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await heading().filter({ hasText: 'Sign in' }).waitFor();
    await page.getByText('You have signed out.').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('xclade.admin.token')), null);
    assert.equal(await page.locator('#top').isHidden(), true, 'no navigation when signed out');
    await page.goto(`${APP}#/customers`);
    await page.reload();
    await heading().filter({ hasText: 'Sign in' }).waitFor();
  });

  step('everything came from the service itself, without a console error', async () => {
    const foreign = requests.filter((url) => !url.startsWith(`${env.apiUrl}/`));
    assert.deepEqual(foreign, [], 'no request leaves the service (works offline, no CDN)');
    // The deliberate 503 and the refused connection log console errors; nothing else may.
    const unexpected = problems.filter((p) => !/503|ERR_CONNECTION_REFUSED|Failed to load resource/.test(p));
    assert.deepEqual(unexpected, []);
    assert.ok(requests.some((url) => url.includes(`/${env.projectKey}/customer-groups/`)), 'renames went to the project family');
  });
});
