// @medusajs/js-sdk against the admin family (/auth/user/emailpass, /admin/*). Ends by checking,
// through the project family, what this suite changed, and through this SDK what the two
// commercetools suites left (tests/clients/run.sh runs them first).

import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import Medusa, { FetchError } from "@medusajs/js-sdk";

import { env, unique, medusaAdmin, commercetoolsApi, rejection, handedOver, UUID, RFC3339_MS } from "./support.mjs";

const T = { timeout: 60_000 };
let sdk;
let token;

before(async () => {
  sdk = await medusaAdmin();
  token = await sdk.client.getToken();
});

/** The seed's customer fields. */
function customerBody(tag, overrides = {}) {
  return {
    email: `${tag}@example.com`,
    company_name: "Acme",
    first_name: "Jane",
    last_name: "Doe",
    phone: "+1 555 0100",
    metadata: { source: "medusa-sdk", tier: 1 },
    ...overrides,
  };
}

const createCustomer = async (tag, overrides) => (await sdk.admin.customer.create(customerBody(tag, overrides))).customer;
const createGroup = async (name, metadata) =>
  (await sdk.admin.customerGroup.create({ name, ...(metadata ? { metadata } : {}) })).customer_group;
const groupIds = (customer) => customer.groups.map((g) => g.id).sort();

/**
 * The raw error body of a request, to see the `type`/`code` the SDK's FetchError does not
 * carry (it keeps only `message`, `status` and `statusText`).
 */
async function rawError(method, path, body) {
  const res = await fetch(`${env.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(res.status >= 400, `expected an error status, got ${res.status}`);
  return { status: res.status, body: await res.json() };
}

function assertFetchError(err, status, message) {
  assert.ok(err instanceof FetchError, `expected a FetchError, got ${err?.constructor?.name}: ${err?.message}`);
  assert.equal(err.status, status, err.message);
  if (message instanceof RegExp) assert.match(err.message, message);
  else if (message !== undefined) assert.equal(err.message, message);
}

describe("auth", () => {
  test("login stores the JWT the SDK then sends", T, async () => {
    assert.equal(typeof token, "string");
    assert.equal(token.split(".").length, 3);
    const { customers, count } = await sdk.admin.customer.list({ limit: 1 });
    assert.ok(Array.isArray(customers));
    assert.equal(typeof count, "number");
  });

  test("a wrong password is a 401 with our message", T, async () => {
    const other = new Medusa({ baseUrl: env.apiUrl, auth: { type: "jwt", jwtTokenStorageMethod: "memory" } });
    const err = await rejection(other.auth.login("user", "emailpass", { email: env.adminEmail, password: "wrong" }));
    assertFetchError(err, 401, "Invalid email or password");
    const raw = await fetch(`${env.apiUrl}/auth/user/emailpass`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: env.adminEmail, password: "wrong" }),
    });
    assert.deepEqual(await raw.json(), { type: "unauthorized", message: "Invalid email or password" });
  });

  test("no token: 401 Unauthorized", T, async () => {
    const anonymous = new Medusa({ baseUrl: env.apiUrl, auth: { type: "jwt", jwtTokenStorageMethod: "memory" } });
    const err = await rejection(anonymous.admin.customer.list());
    assertFetchError(err, 401, "Unauthorized");
  });
});

describe("customers", () => {
  test("create with the seed's fields and additional_data", T, async () => {
    const tag = unique("create");
    const body = customerBody(tag);
    const { customer } = await sdk.admin.customer.create({ ...body, additional_data: { campaign: "spring" } });
    assert.match(customer.id, UUID);
    for (const field of ["email", "company_name", "first_name", "last_name", "phone"]) {
      assert.equal(customer[field], body[field], field);
    }
    assert.deepEqual(customer.metadata, body.metadata);
    assert.equal(customer.has_account, false);
    assert.deepEqual(customer.groups, []);
    assert.deepEqual(customer.addresses, []);
    assert.equal(customer.default_billing_address_id, null);
    assert.equal(customer.default_shipping_address_id, null);
    assert.equal(customer.created_by, env.adminId);
    assert.match(customer.created_at, RFC3339_MS);
    assert.match(customer.updated_at, RFC3339_MS);
    assert.equal(customer.deleted_at, null);
    assert.equal("additional_data" in customer, false, "additional_data is not stored on the customer");
  });

  test("Idempotency-Key: a retry replays the first answer, another body is refused", T, async () => {
    const tag = unique("idem");
    const headers = { "Idempotency-Key": unique("key") };
    const first = await sdk.admin.customer.create(customerBody(tag), undefined, headers);
    const retry = await sdk.admin.customer.create(customerBody(tag), undefined, headers);
    assert.deepEqual(retry, first);
    const { count } = await sdk.admin.customer.list({ email: `${tag}@example.com` });
    assert.equal(count, 1);
    const err = await rejection(sdk.admin.customer.create(customerBody(tag, { first_name: "Other" }), undefined, headers));
    assertFetchError(err, 422, "Idempotency-Key was already used with a different request body");
  });

  test("fields: replace, remove, relations, and invalid ones", T, async () => {
    const tag = unique("fields");
    const { customer: only } = await sdk.admin.customer.create(customerBody(tag), { fields: "id,email" });
    assert.deepEqual(Object.keys(only).sort(), ["email", "id"]);
    assert.equal(only.email, `${tag}@example.com`);

    const { customer: less } = await sdk.admin.customer.retrieve(only.id, { fields: "-phone,-company_name" });
    assert.equal("phone" in less, false);
    assert.equal("company_name" in less, false);
    assert.equal(less.email, only.email);
    assert.deepEqual(less.groups, []);
    assert.deepEqual(less.addresses, []);

    const group = await createGroup(unique("FieldsGroup"));
    await sdk.admin.customer.batchCustomerGroups(only.id, { add: [group.id] });
    const { customer: ids } = await sdk.admin.customer.retrieve(only.id, { fields: "id,email,groups.id" });
    assert.deepEqual(Object.keys(ids).sort(), ["email", "groups", "id"]);
    assert.deepEqual(ids.groups, [{ id: group.id }]);

    const { customer: star } = await sdk.admin.customer.retrieve(only.id, { fields: "*groups" });
    assert.equal(star.phone, "+1 555 0100");
    assert.equal(star.groups[0].name, group.name);

    const err = await rejection(sdk.admin.customer.retrieve(only.id, { fields: "foo,bar" }));
    assertFetchError(err, 400, "Requested fields [foo, bar] are not valid");
  });

  test("a duplicate email (any case) is 422 duplicate_error", T, async () => {
    const tag = unique("dup");
    await createCustomer(tag);
    const upper = `${tag}@example.com`.toUpperCase();
    const err = await rejection(sdk.admin.customer.create(customerBody(tag, { email: upper })));
    assertFetchError(err, 422, `Customer with email: ${upper} already exists.`);
    const raw = await rawError("POST", "/admin/customers", customerBody(tag));
    assert.equal(raw.status, 422);
    assert.equal(raw.body.type, "duplicate_error");
    assert.equal(raw.body.code, "invalid_request_error");
    assert.equal(raw.body.message, `Customer with email: ${tag}@example.com already exists.`);
  });

  test("a missing field, a wrong type and an unknown key are 400 invalid_data", T, async () => {
    const tag = unique("invalid");
    const { email, ...withoutEmail } = customerBody(tag);
    const err = await rejection(sdk.admin.customer.create(withoutEmail));
    assertFetchError(err, 400, "Invalid request: Field 'email' is required");
    const raw = await rawError("POST", "/admin/customers", withoutEmail);
    assert.deepEqual(raw.body, { type: "invalid_data", message: "Invalid request: Field 'email' is required" });

    const typed = await rejection(sdk.admin.customer.create(customerBody(tag, { first_name: 42 })));
    assertFetchError(typed, 400, "Invalid request: Expected type: 'string' for field 'first_name', got: 'number'");

    const unknown = await rejection(sdk.admin.customer.create(customerBody(tag, { foo: 1 })));
    assertFetchError(unknown, 400, "Invalid request: Unrecognized fields: 'foo'");
  });

  test("list: q, email, groups, has_account, created_at, order, limit, offset, fields", T, async () => {
    const tag = unique("list");
    const made = [];
    for (const s of ["a", "b", "c"]) made.push(await createCustomer(`${tag}-${s}`));
    const group = await createGroup(unique("ListGroup"));
    await sdk.admin.customer.batchCustomerGroups(made[1].id, { add: [group.id] });
    await sdk.admin.customer.batchCustomerGroups(made[2].id, { add: [group.id] });

    let page = await sdk.admin.customer.list({ q: tag, order: "-email", limit: 2, offset: 1 });
    assert.equal(page.count, 3);
    assert.equal(page.limit, 2);
    assert.equal(page.offset, 1);
    assert.deepEqual(page.customers.map((c) => c.id), [made[1].id, made[0].id]);

    page = await sdk.admin.customer.list({ email: made[2].email });
    assert.deepEqual(page.customers.map((c) => c.id), [made[2].id]);

    page = await sdk.admin.customer.list({ groups: [group.id], order: "email" });
    assert.deepEqual(page.customers.map((c) => c.id), [made[1].id, made[2].id]);

    page = await sdk.admin.customer.list({ q: tag, has_account: false, created_at: { gte: made[0].created_at } });
    assert.equal(page.count, 3);
    page = await sdk.admin.customer.list({ q: tag, has_account: true });
    assert.equal(page.count, 0);

    page = await sdk.admin.customer.list({ q: tag, fields: "id,email", order: "email" });
    assert.deepEqual(page.customers, made.map((c) => ({ id: c.id, email: c.email })));
  });

  test("retrieve, update (metadata merged, \"\" deletes), delete", T, async () => {
    const tag = unique("crud");
    const created = await createCustomer(tag, { metadata: { keep: true, drop: "x" } });
    const { customer: got } = await sdk.admin.customer.retrieve(created.id);
    assert.deepEqual(got, created);

    const { customer: updated } = await sdk.admin.customer.update(created.id, {
      first_name: "Janet",
      metadata: { drop: "", added: 2 },
    });
    assert.equal(updated.id, created.id);
    assert.equal(updated.first_name, "Janet");
    assert.equal(updated.last_name, created.last_name);
    assert.deepEqual(updated.metadata, { keep: true, added: 2 });
    assert.ok(updated.updated_at >= created.updated_at);

    const deleted = await sdk.admin.customer.delete(created.id);
    assert.deepEqual(deleted, { id: created.id, object: "customer", deleted: true });
    const err = await rejection(sdk.admin.customer.retrieve(created.id));
    assertFetchError(err, 404, `Customer with id: ${created.id} was not found`);
    const raw = await rawError("GET", `/admin/customers/${created.id}`);
    assert.equal(raw.body.type, "not_found");

    // The email is free again.
    const again = await createCustomer(tag);
    assert.notEqual(again.id, created.id);
  });

  test("batchCustomerGroups adds and removes, all or nothing", T, async () => {
    const customer = await createCustomer(unique("batch"));
    const g1 = await createGroup(unique("BatchOne"));
    const g2 = await createGroup(unique("BatchTwo"));

    let { customer: c } = await sdk.admin.customer.batchCustomerGroups(customer.id, { add: [g1.id, g2.id] });
    assert.deepEqual(groupIds(c), [g1.id, g2.id].sort());
    const summary = c.groups.find((g) => g.id === g1.id);
    assert.deepEqual(Object.keys(summary).sort(), ["created_at", "id", "metadata", "name", "updated_at"]);
    assert.equal(summary.name, g1.name);
    assert.equal(summary.created_at, g1.created_at);

    ({ customer: c } = await sdk.admin.customer.batchCustomerGroups(customer.id, { remove: [g1.id] }));
    assert.deepEqual(groupIds(c), [g2.id]);

    // Adding a group it is in, removing one it is not in: no-ops, no duplicates.
    ({ customer: c } = await sdk.admin.customer.batchCustomerGroups(customer.id, { add: [g2.id], remove: [g1.id] }));
    assert.deepEqual(groupIds(c), [g2.id]);

    const missing = randomUUID();
    const err = await rejection(sdk.admin.customer.batchCustomerGroups(customer.id, { add: [g1.id, missing] }));
    assertFetchError(err, 404, new RegExp(missing));
    ({ customer: c } = await sdk.admin.customer.retrieve(customer.id));
    assert.deepEqual(groupIds(c), [g2.id], "nothing changed");

    const both = await rejection(sdk.admin.customer.batchCustomerGroups(customer.id, { add: [g1.id], remove: [g1.id] }));
    assertFetchError(both, 400);

    const unknownCustomer = await rejection(sdk.admin.customer.batchCustomerGroups(randomUUID(), { add: [g1.id] }));
    assertFetchError(unknownCustomer, 404);
  });

  test("addresses: create, defaults, list, retrieve, update, delete", T, async () => {
    const customer = await createCustomer(unique("addr"));
    const home = {
      address_name: "Home",
      company: "Acme",
      first_name: "Jane",
      last_name: "Doe",
      address_1: "1 Main St",
      address_2: "Apt 2",
      city: "San Francisco",
      country_code: "US",
      province: "US-CA",
      postal_code: "94105",
      phone: "+1 555 0101",
      metadata: { floor: 2 },
      is_default_shipping: true,
    };
    let { customer: c } = await sdk.admin.customer.createAddress(customer.id, home);
    assert.equal(c.addresses.length, 1);
    const first = c.addresses[0];
    assert.match(first.id, UUID);
    assert.equal(first.customer_id, customer.id);
    assert.equal(first.country_code, "us");
    assert.equal(first.province, "us-ca");
    assert.equal(first.city, "San Francisco");
    assert.deepEqual(first.metadata, { floor: 2 });
    assert.equal(first.is_default_shipping, true);
    assert.equal(first.is_default_billing, false);
    assert.equal(c.default_shipping_address_id, first.id);
    assert.equal(c.default_billing_address_id, null);

    ({ customer: c } = await sdk.admin.customer.createAddress(customer.id, {
      ...home,
      address_name: "Office",
      address_1: "2 Market St",
      is_default_shipping: true,
      is_default_billing: true,
    }));
    const second = c.addresses.find((a) => a.address_name === "Office");
    assert.equal(c.addresses.length, 2);
    assert.equal(c.default_shipping_address_id, second.id);
    assert.equal(c.default_billing_address_id, second.id);
    assert.equal(c.addresses.find((a) => a.id === first.id).is_default_shipping, false, "the old default is cleared");

    const list = await sdk.admin.customer.listAddresses(customer.id);
    assert.equal(list.count, 2);
    assert.deepEqual(list.addresses.map((a) => a.id).sort(), [first.id, second.id].sort());

    const { address } = await sdk.admin.customer.retrieveAddress(customer.id, first.id);
    assert.equal(address.id, first.id);
    assert.equal(address.address_1, "1 Main St");

    ({ customer: c } = await sdk.admin.customer.updateAddress(customer.id, first.id, { city: "Oakland" }));
    assert.equal(c.addresses.find((a) => a.id === first.id).city, "Oakland");

    const deleted = await sdk.admin.customer.deleteAddress(customer.id, second.id);
    assert.equal(deleted.id, second.id);
    assert.equal(deleted.object, "customer_address");
    assert.equal(deleted.deleted, true);
    assert.deepEqual(deleted.parent.addresses.map((a) => a.id), [first.id]);
    assert.equal(deleted.parent.default_shipping_address_id, null);
    assert.equal(deleted.parent.default_billing_address_id, null);

    const other = await createCustomer(unique("addr-other"));
    const err = await rejection(sdk.admin.customer.retrieveAddress(other.id, first.id));
    assertFetchError(err, 404);
  });
});

describe("customer groups", () => {
  test("create, retrieve, list, update, batchCustomers, delete", T, async () => {
    const name = unique("Gold");
    const group = await createGroup(name, { tier: "gold" });
    assert.match(group.id, UUID);
    assert.equal(group.name, name);
    assert.deepEqual(group.metadata, { tier: "gold" });
    assert.equal(group.created_by, env.adminId);
    assert.match(group.created_at, RFC3339_MS);
    assert.equal(group.deleted_at, null);

    const { customer_group: got } = await sdk.admin.customerGroup.retrieve(group.id);
    assert.deepEqual(got, group);

    const list = await sdk.admin.customerGroup.list({ q: name, limit: 10 });
    assert.equal(list.count, 1);
    assert.deepEqual(list.customer_groups.map((g) => g.id), [group.id]);
    assert.equal(list.limit, 10);
    assert.equal(list.offset, 0);

    const newName = unique("Platinum");
    const { customer_group: updated } = await sdk.admin.customerGroup.update(group.id, {
      name: newName,
      metadata: { tier: "", level: 3 },
    });
    assert.equal(updated.name, newName);
    assert.deepEqual(updated.metadata, { level: 3 });

    const dup = await rejection(sdk.admin.customerGroup.create({ name: newName }));
    assertFetchError(dup, 422, `Customer group with name: ${newName} already exists.`);

    const c1 = await createCustomer(unique("member1"));
    const c2 = await createCustomer(unique("member2"));
    const { customer_group: withMembers } = await sdk.admin.customerGroup.batchCustomers(group.id, {
      add: [c1.id, c2.id],
    });
    assert.equal(withMembers.id, group.id);
    let { customer: member } = await sdk.admin.customer.retrieve(c1.id);
    assert.deepEqual(groupIds(member), [group.id]);
    const { customer_group: members } = await sdk.admin.customerGroup.retrieve(group.id, { fields: "id,customers.id" });
    assert.deepEqual(members.customers.map((c) => c.id).sort(), [c1.id, c2.id].sort());

    await sdk.admin.customerGroup.batchCustomers(group.id, { remove: [c1.id] });
    ({ customer: member } = await sdk.admin.customer.retrieve(c1.id));
    assert.deepEqual(member.groups, []);

    const unknown = randomUUID();
    const err = await rejection(sdk.admin.customerGroup.batchCustomers(group.id, { add: [unknown] }));
    assertFetchError(err, 404, new RegExp(unknown));

    const deleted = await sdk.admin.customerGroup.delete(group.id);
    assert.deepEqual(deleted, { id: group.id, object: "customer_group", deleted: true });
    const gone = await rejection(sdk.admin.customerGroup.retrieve(group.id));
    assertFetchError(gone, 404, `Customer group with id: ${group.id} was not found`);
    ({ customer: member } = await sdk.admin.customer.retrieve(c2.id));
    assert.deepEqual(member.groups, [], "members leave a deleted group");
  });
});

describe("through the project family", () => {
  test("a group renamed and given members here has the new name and version there", T, async () => {
    const ct = commercetoolsApi();
    const group = await createGroup(unique("Cross"));
    const name = unique("CrossRenamed");
    await sdk.admin.customerGroup.update(group.id, { name });
    const customer = await createCustomer(unique("cross"));
    await sdk.admin.customer.batchCustomerGroups(customer.id, { add: [group.id] });

    const res = await ct.customerGroups().withId({ ID: group.id }).get().execute();
    assert.equal(res.body.name, name);
    // 1 at creation, +1 for the rename, +1 for the membership change (docs/decisions.md).
    assert.equal(res.body.version, 3);
    assert.deepEqual(res.body.createdBy, { externalUserId: env.adminId });
    assert.equal(res.body.createdAt, group.created_at);

    await sdk.admin.customerGroup.delete(group.id);
    const err = await rejection(ct.customerGroups().withId({ ID: group.id }).get().execute());
    assert.equal(err.statusCode, 404);
  });

  for (const [suite, label] of [
    ["python", "the Python commercetools SDK"],
    ["commercetools", "@commercetools/platform-sdk"],
  ]) {
    test(`what ${label} renamed and deleted is seen here`, T, async (t) => {
      const handed = handedOver(suite);
      if (!handed) return t.skip(`the ${suite} suite did not run before this one`);
      const { customer_group: seen } = await sdk.admin.customerGroup.retrieve(handed.renamed.id);
      assert.equal(seen.name, handed.renamed.name);
      const projectView = await commercetoolsApi().customerGroups().withId({ ID: handed.renamed.id }).get().execute();
      assert.equal(projectView.body.version, handed.renamed.version);
      assert.equal(projectView.body.key, handed.renamed.key);
      const gone = await rejection(sdk.admin.customerGroup.retrieve(handed.deleted.id));
      assertFetchError(gone, 404, `Customer group with id: ${handed.deleted.id} was not found`);
    });
  }
});
