// The Qdrant JS client, unmodified, against a shoald serving TLS with API keys (issue #8):
//
//   NODE_EXTRA_CA_CERTS=ca.pem node secure.mjs --url https://127.0.0.1:6333 --key RW --read-key RO
//
// With the read-write key it creates a collection, upserts, searches and counts; with the
// read-only key searches work and writes are refused (403); without a key everything but the
// probes is refused (401). Exits 0 when everything held ("secure: all ..."), 1 otherwise.

import assert from "node:assert/strict";
import { parseArgs } from "node:util";

import { QdrantClient } from "@qdrant/js-client-rest";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    key: { type: "string" },
    "read-key": { type: "string" },
  },
});

async function status(promise) {
  try {
    await promise;
    return 200;
  } catch (e) {
    return e.status ?? e.response?.status ?? `no status: ${e}`;
  }
}

let step = "start";
try {
  const url = new URL(args.url);
  const options = { host: url.hostname, port: Number(url.port), https: true };
  const writer = new QdrantClient({ ...options, apiKey: args.key });
  const reader = new QdrantClient({ ...options, apiKey: args["read-key"] });
  const stranger = new QdrantClient(options);

  step = "create";
  await writer.createCollection("secure", { vectors: { size: 4, distance: "Dot" } });
  step = "upsert";
  const points = [];
  for (let i = 0; i < 200; i++) {
    points.push({ id: i, vector: [1, i % 7, (i % 3) - 1, 0.5], payload: { n: i } });
  }
  await writer.upsert("secure", { wait: true, points });
  step = "search (read-write key)";
  const hits = await writer.search("secure", { vector: [0, 1, 0, 0], limit: 5 });
  assert.equal(hits.length, 5);
  assert.equal(hits[0].id % 7, 6, "the best hit has the largest second coordinate");

  step = "read-only key: reads";
  const count = await reader.count("secure", { exact: true });
  assert.equal(count.count, 200);
  const again = await reader.search("secure", { vector: [0, 1, 0, 0], limit: 5 });
  assert.deepEqual(again.map((h) => h.id), hits.map((h) => h.id));
  const page = await reader.scroll("secure", { limit: 10 });
  assert.equal(page.points.length, 10);
  step = "read-only key: writes refused";
  assert.equal(await status(reader.upsert("secure", { wait: true, points: points.slice(0, 1) })), 403);
  assert.equal(await status(reader.deleteCollection("secure")), 403);

  step = "no key";
  assert.equal(await status(stranger.getCollections()), 401);
  assert.equal(await status(stranger.search("secure", { vector: [0, 1, 0, 0], limit: 5 })), 401);

  step = "cleanup";
  await writer.deleteCollection("secure");
  console.log("secure: all checks passed (https, api-key, read-only key, 401/403)");
} catch (e) {
  console.error(`secure: FAILED at ${step}:`, e);
  process.exit(1);
}
