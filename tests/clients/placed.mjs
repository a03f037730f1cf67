// The Qdrant JS client, unmodified, talking to a host that does not hold a collection (issue #7,
// placement by replication_factor): that host answers every request about it with 307 to the
// leader, and the client's fetch follows with the same method and body.
//
//   node placed.mjs --url http://HOST:PORT --collection NAME
//
// Exits 0 when reads and writes through that host worked ("placed: all ..."), 1 otherwise.

import assert from "node:assert/strict";
import { parseArgs } from "node:util";

import { QdrantClient } from "@qdrant/js-client-rest";

const { values: args } = parseArgs({
  options: { url: { type: "string" }, collection: { type: "string" } },
});

let step = "start";
try {
  const url = new URL(args.url);
  const client = new QdrantClient({ host: url.hostname, port: Number(url.port) });
  const name = args.collection;

  step = "list";
  const { collections } = await client.getCollections();
  assert.ok(collections.some((c) => c.name === name), `${name} is listed`);
  step = "info";
  const info = await client.getCollection(name);
  assert.equal(info.config.params.vectors.size, 4);
  step = "upsert";
  const points = [];
  for (let i = 0; i < 50; i++) {
    points.push({ id: 10_000 + i, vector: [1, i % 5, 0.5, (i % 3) - 1], payload: { js: i } });
  }
  const written = await client.upsert(name, { wait: true, points });
  assert.equal(written.status, "completed");
  step = "retrieve";
  const got = await client.retrieve(name, { ids: [10_000, 10_049], with_payload: true });
  assert.deepEqual(got.map((p) => p.payload.js).sort((a, b) => a - b), [0, 49]);
  step = "search";
  const hits = await client.search(name, { vector: [0, 1, 0, 0], limit: 3 });
  assert.equal(hits.length, 3);
  step = "count";
  const count = await client.count(name, { filter: { must: [{ key: "js", range: { gte: 0 } }] } });
  assert.equal(count.count, 50);
  console.log(`placed: all checks passed through ${args.url} (307 followed)`);
} catch (e) {
  console.error(`placed: FAILED at ${step}:`, e);
  process.exit(1);
}
