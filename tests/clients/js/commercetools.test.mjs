// @commercetools/platform-sdk + @commercetools/ts-client against the project family:
// createApiBuilderFromCtpClient(client).withProjectKey({projectKey}).customerGroups()…

import { describe, test, before } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";

import {
  env,
  unique,
  sleep,
  recordingFetch,
  commercetoolsApi,
  medusaAdmin,
  rejection,
  handOver,
  UUID,
} from "./support.mjs";

const T = { timeout: 60_000 };
const api = commercetoolsApi();
const groups = () => api.customerGroups();

async function create(name, key, extra = {}) {
  const res = await groups().post({ body: { groupName: name, ...(key ? { key } : {}), ...extra } }).execute();
  assert.equal(res.statusCode, 201);
  return res.body;
}

const update = (builder, version, ...actions) => builder.post({ body: { version, actions } }).execute();

/** Probes custom types (issue 7): null while POST /{key}/types answers 404. */
let typeProbe;
async function groupType() {
  typeProbe ??= (async () => {
    const key = unique("group-fields");
    try {
      const res = await api
        .types()
        .post({
          body: {
            key,
            name: { en: "Customer group fields" },
            resourceTypeIds: ["customer-group"],
            fieldDefinitions: [
              { name: "tier", type: { name: "String" }, required: false, label: { en: "Tier" } },
              { name: "discount", type: { name: "Number" }, required: false, label: { en: "Discount" } },
            ],
          },
        })
        .execute();
      assert.equal(res.statusCode, 201);
      return res.body;
    } catch (err) {
      if (err?.statusCode === 404) return null;
      throw err;
    }
  })();
  return typeProbe;
}
const NO_TYPES = "custom types are not implemented on the server yet (POST /{key}/types answered 404; issue 7)";

describe("tokens", () => {
  test("scopes go to /oauth/token with a raw space and colon, and the token works", T, async () => {
    const recorder = recordingFetch();
    const scopes = [`manage_customer_groups:${env.projectKey}`, `view_customer_groups:${env.projectKey}`];
    const scoped = commercetoolsApi({ scopes, httpClient: recorder });
    const res = await scoped.customerGroups().get({ queryArgs: { limit: 1 } }).execute();
    assert.equal(res.statusCode, 200);
    const [token] = recorder.tokenCalls();
    assert.equal(token.body, `grant_type=client_credentials&scope=${scopes.join(" ")}`);
    assert.equal(token.requestHeaders["content-type"], "application/x-www-form-urlencoded");
    assert.match(token.requestHeaders.authorization, /^Basic /);
    assert.equal(token.status, 200);
    assert.equal(recorder.apiCalls()[0].requestHeaders.authorization.startsWith("Bearer "), true);
  });

  test("a bad token is a JSON 401 invalid_token", T, async () => {
    const err = await rejection(
      commercetoolsApi({ existingToken: "Bearer not-a-token" }).customerGroups().get().execute(),
    );
    assert.equal(err.statusCode, 401);
    assert.equal(err.code, "invalid_token");
    assert.equal(err.body.error, "invalid_token");
    assert.equal(err.body.errors[0].code, "invalid_token");
  });
});

describe("create and read", () => {
  test("create with and without key", T, async () => {
    const name = unique("Gold");
    const key = unique("gold");
    const withKey = await create(name, key);
    assert.match(withKey.id, UUID);
    assert.equal(withKey.version, 1);
    assert.equal(withKey.name, name);
    assert.equal(withKey.key, key);
    assert.deepEqual(withKey.createdBy, { clientId: env.clientId });
    assert.deepEqual(withKey.lastModifiedBy, { clientId: env.clientId });
    assert.equal(withKey.lastModifiedAt, withKey.createdAt);
    assert.equal("custom" in withKey, false);

    const plainName = unique("Silver");
    const withoutKey = await create(plainName);
    assert.equal(withoutKey.name, plainName);
    assert.equal(withoutKey.version, 1);
    assert.equal("key" in withoutKey, false, "absent optional fields are omitted, not null");
    assert.notEqual(withoutKey.id, withKey.id);
  });

  test("a duplicate name is a DuplicateField error", T, async () => {
    const name = unique("Dup");
    await create(name, unique("dup"));
    const err = await rejection(create(name));
    assert.equal(err.statusCode, 400);
    assert.equal(err.code, "DuplicateField");
    assert.equal(err.body.errors[0].field, "name");
    assert.equal(err.body.errors[0].duplicateValue, name);
    assert.equal(err.message, err.body.message);
  });

  test("get by id and by key", T, async () => {
    const name = unique("Bronze");
    const key = unique("bronze");
    const created = await create(name, key);
    const byId = await groups().withId({ ID: created.id }).get().execute();
    assert.equal(byId.statusCode, 200);
    assert.deepEqual(byId.body, created);
    const byKey = await groups().withKey({ key }).get().execute();
    assert.equal(byKey.statusCode, 200);
    assert.deepEqual(byKey.body, created);
  });

  test("404: the SDK rejects with NotFound carrying ResourceNotFound", T, async () => {
    const id = randomUUID();
    const byId = await rejection(groups().withId({ ID: id }).get().execute());
    assert.equal(byId.statusCode, 404);
    assert.equal(byId.name, "NotFound");
    assert.equal(byId.code, "ResourceNotFound");
    assert.equal(byId.body.errors[0].message, `The Resource with ID '${id}' was not found.`);

    const key = unique("missing");
    const byKey = await rejection(groups().withKey({ key }).get().execute());
    assert.equal(byKey.statusCode, 404);
    assert.equal(byKey.code, "ResourceNotFound");
    assert.equal(byKey.body.errors[0].message, `The Resource with key '${key}' was not found.`);

    const upd = await rejection(update(groups().withId({ ID: id }), 1, { action: "changeName", name: "x" }));
    assert.equal(upd.statusCode, 404);
    const del = await rejection(groups().withKey({ key }).delete({ queryArgs: { version: 1 } }).execute());
    assert.equal(del.statusCode, 404);
  });

  test("an id that is not a UUID still gets a JSON error (not a network error)", T, async () => {
    const err = await rejection(groups().withId({ ID: "not-a-uuid" }).get().execute());
    assert.ok([400, 404].includes(err.statusCode), `status ${err.statusCode}`);
    assert.ok(Array.isArray(err.body?.errors) && err.body.errors.length > 0, JSON.stringify(err.body));
  });

  test("HEAD by id, by key and by predicate", T, async () => {
    const key = unique("head");
    const created = await create(unique("Head"), key);
    const byId = await groups().withId({ ID: created.id }).head().execute();
    assert.equal(byId.statusCode, 200);
    assert.equal(byId.body, null);
    const byKey = await groups().withKey({ key }).head().execute();
    assert.equal(byKey.statusCode, 200);
    const byWhere = await groups().head({ queryArgs: { where: `key = "${key}"` } }).execute();
    assert.equal(byWhere.statusCode, 200);

    assert.equal((await rejection(groups().withId({ ID: randomUUID() }).head().execute())).statusCode, 404);
    assert.equal((await rejection(groups().withKey({ key: unique("nohead") }).head().execute())).statusCode, 404);
    const none = await rejection(groups().head({ queryArgs: { where: `key = "${unique("nohead")}"` } }).execute());
    assert.equal(none.statusCode, 404);
  });
});

describe("query", () => {
  test("where, sort, limit, offset, withTotal, var", T, async () => {
    const tag = unique("q");
    const names = ["a", "b", "c"].map((s) => `${tag}-${s}`);
    const keys = ["a", "b", "c"].map((s) => `${tag}-k${s}`);
    const created = [];
    for (let i = 0; i < 3; i++) created.push(await create(names[i], keys[i]));
    const inKeys = `key in (${keys.map((k) => `"${k}"`).join(", ")})`;

    let res = await groups()
      .get({ queryArgs: { where: inKeys, sort: "name desc", limit: 2, offset: 1, withTotal: true } })
      .execute();
    assert.equal(res.statusCode, 200);
    assert.deepEqual(
      { limit: res.body.limit, offset: res.body.offset, count: res.body.count, total: res.body.total },
      { limit: 2, offset: 1, count: 2, total: 3 },
    );
    assert.deepEqual(res.body.results.map((g) => g.id), [created[1].id, created[0].id]);

    res = await groups().get({ queryArgs: { where: inKeys, sort: ["name asc"], withTotal: false } }).execute();
    assert.equal("total" in res.body, false);
    assert.equal(res.body.count, 3);
    assert.deepEqual(res.body.results.map((g) => g.key), keys);

    res = await groups()
      .get({ queryArgs: { where: [inKeys, `name != "${names[0]}"`], sort: ["key desc", "id asc"] } })
      .execute();
    assert.equal(res.body.total, 2);
    assert.deepEqual(res.body.results.map((g) => g.name), [names[2], names[1]]);

    res = await groups()
      .get({ queryArgs: { where: "key in :keys", "var.keys": keys.slice(1), sort: "name asc" } })
      .execute();
    assert.deepEqual(res.body.results.map((g) => g.key), keys.slice(1));

    const bad = await rejection(groups().get({ queryArgs: { where: 'name = "unterminated' } }).execute());
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.code, "InvalidInput");
    assert.match(bad.body.message, /^Malformed parameter: where/);
  });
});

describe("update and delete", () => {
  test("changeName and setKey, by id and by key; a no-op keeps the version", T, async () => {
    const created = await create(unique("Rename"), unique("rename"));
    const name = unique("Renamed");
    const key = unique("renamed");
    let res = await update(
      groups().withId({ ID: created.id }),
      1,
      { action: "changeName", name },
      { action: "setKey", key },
    );
    assert.equal(res.statusCode, 200);
    assert.equal(res.body.version, 3);
    assert.equal(res.body.name, name);
    assert.equal(res.body.key, key);
    assert.equal(res.body.createdAt, created.createdAt);
    assert.ok(res.body.lastModifiedAt >= created.lastModifiedAt);

    res = await update(groups().withKey({ key }), 3, { action: "setKey" });
    assert.equal(res.body.version, 4);
    assert.equal("key" in res.body, false);
    assert.equal((await rejection(groups().withKey({ key }).get().execute())).statusCode, 404);

    res = await update(groups().withId({ ID: created.id }), 4, { action: "changeName", name });
    assert.equal(res.body.version, 4);

    const unknown = await rejection(update(groups().withId({ ID: created.id }), 4, { action: "foo" }));
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.code, "InvalidInput");
  });

  test("a stale version is a 409 ConcurrentModification with currentVersion", T, async () => {
    const created = await create(unique("Stale"), unique("stale"));
    const v2 = await update(groups().withId({ ID: created.id }), 1, { action: "changeName", name: unique("Fresh") });
    assert.equal(v2.body.version, 2);

    const err = await rejection(
      update(groups().withId({ ID: created.id }), 1, { action: "changeName", name: unique("Lost") }),
    );
    assert.equal(err.statusCode, 409);
    assert.equal(err.name, "ConcurrentModification");
    assert.equal(err.code, "ConcurrentModification");
    assert.equal(err.body.errors[0].currentVersion, 2);

    const staleDelete = await rejection(groups().withKey({ key: created.key }).delete({ queryArgs: { version: 1 } }).execute());
    assert.equal(staleDelete.statusCode, 409);
    assert.equal(staleDelete.body.errors[0].currentVersion, 2);

    // The SDK's concurrent-modification middleware retries with the currentVersion it got.
    const retrying = commercetoolsApi({ concurrentModification: true });
    const name = unique("Retried");
    const res = await retrying
      .customerGroups()
      .withId({ ID: created.id })
      .post({ body: { version: 1, actions: [{ action: "changeName", name }] } })
      .execute();
    assert.equal(res.body.version, 3);
    assert.equal(res.body.name, name);
  });

  test("delete by id and by key with version; without version is InvalidOperation", T, async () => {
    const first = await create(unique("DelId"), unique("delid"));
    const second = await create(unique("DelKey"), unique("delkey"));

    const missing = await rejection(groups().withId({ ID: first.id }).delete({ queryArgs: {} }).execute());
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.code, "InvalidOperation");

    let res = await groups().withId({ ID: first.id }).delete({ queryArgs: { version: 1 } }).execute();
    assert.equal(res.statusCode, 200);
    assert.equal(res.body.id, first.id);
    assert.equal(res.body.version, 1);
    assert.equal((await rejection(groups().withId({ ID: first.id }).get().execute())).statusCode, 404);

    res = await groups().withKey({ key: second.key }).delete({ queryArgs: { version: 1 } }).execute();
    assert.equal(res.body.id, second.id);
    assert.equal(res.body.name, second.name);
    assert.equal((await rejection(groups().withKey({ key: second.key }).head().execute())).statusCode, 404);
  });
});

describe("scopes", () => {
  test("a view_customer_groups token reads but every write is 403 insufficient_scope", T, async () => {
    const existing = await create(unique("Readable"), unique("readable"));
    const recorder = recordingFetch();
    const viewer = commercetoolsApi({
      clientId: env.viewClientId,
      clientSecret: env.viewClientSecret,
      scopes: [`view_customer_groups:${env.projectKey}`],
      httpClient: recorder,
    });
    const seen = await viewer.customerGroups().withId({ ID: existing.id }).get().execute();
    assert.equal(seen.body.name, existing.name);

    const writes = [
      () => viewer.customerGroups().post({ body: { groupName: unique("Forbidden") } }).execute(),
      () =>
        viewer
          .customerGroups()
          .withId({ ID: existing.id })
          .post({ body: { version: 1, actions: [{ action: "changeName", name: unique("Nope") }] } })
          .execute(),
      () => viewer.customerGroups().withKey({ key: existing.key }).delete({ queryArgs: { version: 1 } }).execute(),
    ];
    for (const write of writes) {
      const err = await rejection(write());
      assert.equal(err.statusCode, 403);
      assert.equal(err.code, "insufficient_scope");
      assert.equal(err.body.error, "insufficient_scope");
    }
    // A 403 does not make the client fetch another token.
    assert.equal(recorder.tokenCalls().length, 1);
    const after = await groups().withId({ ID: existing.id }).get().execute();
    assert.equal(after.body.version, 1);
  });
});

describe("re-authentication (instance issuing 2-second tokens)", () => {
  test("a token past its lifetime is replaced before the next request", T, async () => {
    const recorder = recordingFetch();
    const shortLived = commercetoolsApi({ url: env.shortTtlApiUrl, httpClient: recorder });
    const created = await shortLived.customerGroups().post({ body: { groupName: unique("Short") } }).execute();
    assert.equal(created.statusCode, 201);
    await sleep((env.shortTtlSecs + 1) * 1000);
    const seen = await shortLived.customerGroups().withId({ ID: created.body.id }).get().execute();
    assert.equal(seen.statusCode, 200);
    const tokens = recorder.tokenCalls();
    assert.ok(tokens.length >= 2, `token requests: ${tokens.length}`);
    assert.ok(tokens.every((c) => c.status === 200));
    assert.ok(recorder.apiCalls().every((c) => c.status < 300), JSON.stringify(recorder.apiCalls().map((c) => c.status)));
  });

  test("a 401 for a token the client still trusts makes it fetch a new one and retry", T, async () => {
    const recorder = recordingFetch();
    // A token cache that believes every token lives an hour: the server's 401 is the only signal.
    const cache = {
      value: { token: "", expirationTime: -1 },
      get() {
        return this.value;
      },
      set(value) {
        this.value = { ...value, expirationTime: Date.now() + 3_600_000 };
      },
    };
    const shortLived = commercetoolsApi({ url: env.shortTtlApiUrl, httpClient: recorder, tokenCache: cache });
    const created = await shortLived.customerGroups().post({ body: { groupName: unique("Retry401") } }).execute();
    const firstToken = cache.value.token;
    await sleep((env.shortTtlSecs + 1) * 1000);
    const seen = await shortLived.customerGroups().withId({ ID: created.body.id }).get().execute();
    assert.equal(seen.statusCode, 200);
    assert.equal(seen.body.id, created.body.id);
    assert.deepEqual(
      recorder.calls.map((c) => `${c.method} ${c.path === "/oauth/token" ? "token" : "api"} ${c.status}`),
      ["POST token 200", "POST api 201", "GET api 401", "POST token 200", "GET api 200"],
    );
    assert.notEqual(cache.value.token, firstToken);
    const rejected = recorder.calls[2];
    assert.match(rejected.responseHeaders["content-type"], /application\/json/);
  });
});

describe("X-Correlation-ID", () => {
  test("the id the client sends comes back, on success and on error", T, async () => {
    let n = 0;
    const prefix = unique("corr");
    const recorder = recordingFetch();
    const traced = commercetoolsApi({ correlationId: () => `${prefix}-${++n}`, httpClient: recorder });
    const created = await traced.customerGroups().post({ body: { groupName: unique("Traced") } }).execute();
    assert.equal(created.headers["x-correlation-id"], `${prefix}-1`);
    const got = await traced.customerGroups().withId({ ID: created.body.id }).get().execute();
    assert.equal(got.headers["x-correlation-id"], `${prefix}-2`);
    const head = await traced.customerGroups().withId({ ID: created.body.id }).head().execute();
    assert.equal(head.headers["x-correlation-id"], `${prefix}-3`);
    const err = await rejection(traced.customerGroups().withId({ ID: randomUUID() }).get().execute());
    assert.equal(err.headers["x-correlation-id"], `${prefix}-4`);
    for (const call of recorder.apiCalls()) {
      assert.equal(call.responseHeaders["x-correlation-id"], call.requestHeaders["x-correlation-id"]);
    }
  });

  test("the SDK's own generated ids come back too", T, async () => {
    const recorder = recordingFetch();
    const plain = commercetoolsApi({ httpClient: recorder });
    await plain.customerGroups().get({ queryArgs: { limit: 1 } }).execute();
    const call = recorder.apiCalls()[0];
    assert.ok(call.requestHeaders["x-correlation-id"]);
    assert.equal(call.responseHeaders["x-correlation-id"], call.requestHeaders["x-correlation-id"]);
  });
});

describe("custom fields (custom types: issue 7)", () => {
  test("setCustomType and setCustomField", T, async (t) => {
    const type = await groupType();
    if (!type) return t.skip(NO_TYPES);
    const created = await create(unique("Custom"), unique("custom"));
    let res = await update(groups().withId({ ID: created.id }), 1, {
      action: "setCustomType",
      type: { typeId: "type", key: type.key },
      fields: { tier: "gold" },
    });
    assert.equal(res.body.version, 2);
    assert.deepEqual(res.body.custom, { type: { typeId: "type", id: type.id }, fields: { tier: "gold" } });
    res = await update(groups().withKey({ key: created.key }), 2, { action: "setCustomField", name: "discount", value: 5 });
    assert.equal(res.body.version, 3);
    assert.deepEqual(res.body.custom.fields, { tier: "gold", discount: 5 });
    res = await update(groups().withKey({ key: created.key }), 3, { action: "setCustomField", name: "tier", value: null });
    assert.deepEqual(res.body.custom.fields, { discount: 5 });
    res = await update(groups().withId({ ID: created.id }), 4, { action: "setCustomType" });
    assert.equal(res.body.version, 5);
    assert.equal("custom" in res.body, false);
  });

  test("create with custom fields; a wrong value type is InvalidField", T, async (t) => {
    const type = await groupType();
    if (!type) return t.skip(NO_TYPES);
    const created = await create(unique("CustomDraft"), undefined, {
      custom: { type: { typeId: "type", key: type.key }, fields: { tier: "silver" } },
    });
    assert.deepEqual(created.custom, { type: { typeId: "type", id: type.id }, fields: { tier: "silver" } });
    const err = await rejection(
      create(unique("CustomWrong"), undefined, {
        custom: { type: { typeId: "type", key: type.key }, fields: { discount: "five" } },
      }),
    );
    assert.equal(err.statusCode, 400);
    assert.equal(err.code, "InvalidField");
  });
});

describe("through the admin family (Medusa JS SDK)", () => {
  let medusa;
  before(async () => {
    medusa = await medusaAdmin();
  });

  test("a group created and renamed here has the new name there; a deleted one is gone", T, async () => {
    const created = await create(unique("Cross"), unique("cross"));
    const name = unique("CrossRenamed");
    const renamed = await update(groups().withKey({ key: created.key }), 1, { action: "changeName", name });
    assert.equal(renamed.body.version, 2);

    const { customer_group: seen } = await medusa.admin.customerGroup.retrieve(created.id);
    assert.equal(seen.id, created.id);
    assert.equal(seen.name, name);
    assert.equal(seen.created_by, env.clientId);
    assert.equal(seen.created_at, created.createdAt);
    assert.equal(seen.updated_at, renamed.body.lastModifiedAt);

    const doomed = await create(unique("CrossDeleted"));
    await groups().withId({ ID: doomed.id }).delete({ queryArgs: { version: 1 } }).execute();
    const gone = await rejection(medusa.admin.customerGroup.retrieve(doomed.id));
    assert.equal(gone.status, 404);

    handOver("commercetools", {
      sdk: "@commercetools/platform-sdk",
      renamed: { id: created.id, key: created.key, name, version: 2 },
      deleted: { id: doomed.id },
    });
  });
});
