// Shared by the two Node suites: the run's settings (exported by tests/clients/run.sh), the SDK
// clients built the way an application builds them, a fetch that records what went over the
// wire, and the hand-over files between suites.

import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";

import { ClientBuilder } from "@commercetools/ts-client";
import { createApiBuilderFromCtpClient } from "@commercetools/platform-sdk";
import Medusa from "@medusajs/js-sdk";

function required(name) {
  const value = (process.env[name] ?? "").trim();
  if (!value) {
    console.error(`${name} is not set: run this suite through tests/clients/run.sh`);
    process.exit(4);
  }
  return value;
}

export const env = {
  apiUrl: required("XCLADE_API_URL").replace(/\/$/, ""),
  shortTtlApiUrl: required("XCLADE_SHORT_TTL_API_URL").replace(/\/$/, ""),
  shortTtlSecs: Number(process.env.XCLADE_SHORT_TTL_SECS ?? "2"),
  projectKey: required("XCLADE_PROJECT_KEY"),
  clientId: required("XCLADE_CLIENT_ID"),
  clientSecret: required("XCLADE_CLIENT_SECRET"),
  viewClientId: required("XCLADE_VIEW_CLIENT_ID"),
  viewClientSecret: required("XCLADE_VIEW_CLIENT_SECRET"),
  adminEmail: required("XCLADE_ADMIN_EMAIL"),
  adminPassword: required("XCLADE_ADMIN_PASSWORD"),
  adminId: required("XCLADE_ADMIN_ID"),
  handoffDir: (process.env.XCLADE_HANDOFF_DIR ?? "").trim() || null,
};

/** `unique("gold")` → `gold-3fa9c2d1`: names and keys no other test or run uses. */
export const unique = (prefix) => `${prefix}-${randomBytes(4).toString("hex")}`;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A `fetch` that records every exchange: `{url, path, method, requestHeaders, body, status,
 * responseHeaders}` in `calls`. `tokenCalls()` are those to /oauth/token.
 */
export function recordingFetch() {
  const calls = [];
  const recorder = async (input, init = {}) => {
    const response = await fetch(input, init);
    const url = new URL(String(input));
    calls.push({
      url: String(input),
      path: url.pathname,
      method: (init.method ?? "GET").toUpperCase(),
      requestHeaders: Object.fromEntries(new Headers(init.headers ?? {}).entries()),
      body: typeof init.body === "string" ? init.body : init.body ?? null,
      status: response.status,
      responseHeaders: Object.fromEntries(response.headers.entries()),
    });
    return response;
  };
  recorder.calls = calls;
  recorder.tokenCalls = () => calls.filter((c) => c.path === "/oauth/token");
  recorder.apiCalls = () => calls.filter((c) => c.path !== "/oauth/token");
  return recorder;
}

/**
 * The project-family API root (`createApiBuilderFromCtpClient(…).withProjectKey(…)`), with the
 * client-credentials flow against our /oauth/token.
 */
export function commercetoolsApi({
  url = env.apiUrl,
  clientId = env.clientId,
  clientSecret = env.clientSecret,
  scopes = [`manage_project:${env.projectKey}`],
  httpClient = fetch,
  tokenCache,
  correlationId,
  concurrentModification = false,
  existingToken,
} = {}) {
  let builder = new ClientBuilder().withProjectKey(env.projectKey);
  if (existingToken) {
    builder = builder.withExistingTokenFlow(existingToken, { force: true });
  } else {
    builder = builder.withClientCredentialsFlow({
      host: url,
      projectKey: env.projectKey,
      credentials: { clientId, clientSecret },
      scopes,
      httpClient,
      ...(tokenCache ? { tokenCache } : {}),
    });
  }
  builder = builder.withHttpMiddleware({ host: url, httpClient }).withCorrelationIdMiddleware(
    correlationId ? { generate: correlationId } : undefined,
  );
  if (concurrentModification) builder = builder.withConcurrentModificationMiddleware();
  return createApiBuilderFromCtpClient(builder.build()).withProjectKey({ projectKey: env.projectKey });
}

/** A Medusa JS SDK logged in as the run's admin user (JWT kept in memory: no browser storage here). */
export async function medusaAdmin({ baseUrl = env.apiUrl } = {}) {
  const sdk = new Medusa({ baseUrl, auth: { type: "jwt", jwtTokenStorageMethod: "memory" } });
  const token = await sdk.auth.login("user", "emailpass", { email: env.adminEmail, password: env.adminPassword });
  if (typeof token !== "string") throw new Error(`unexpected login answer: ${JSON.stringify(token)}`);
  return sdk;
}

/** Awaits a promise that must reject, and returns the rejection. */
export async function rejection(promise) {
  try {
    const value = await promise;
    throw Object.assign(new Error(`expected a rejection, got: ${JSON.stringify(value)?.slice(0, 500)}`), {
      notRejected: true,
    });
  } catch (err) {
    if (err?.notRejected) throw err;
    return err;
  }
}

/** Leaves `data` for a later suite (no-op when the suite runs alone). */
export function handOver(name, data) {
  if (!env.handoffDir) return;
  mkdirSync(env.handoffDir, { recursive: true });
  writeFileSync(join(env.handoffDir, `${name}.json`), JSON.stringify(data, null, 2));
}

/** What an earlier suite left, or null when it did not run. */
export function handedOver(name) {
  if (!env.handoffDir) return null;
  const file = join(env.handoffDir, `${name}.json`);
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : null;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
