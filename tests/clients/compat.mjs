// Compatibility of Shoal's REST API with the real clients (issue #5): the Qdrant JS client
// (@qdrant/js-client-rest) and LangChain's QdrantVectorStore (@langchain/qdrant), unmodified,
// against a running shoald.
//
//   node compat.mjs --url http://127.0.0.1:6333 --data-dir /abs/path/of/shoald/data
//
// Every step asserts; search results are compared with exact brute force computed here. Exits 0
// when everything held, 1 on the first failure (with what failed). --data-dir is where shoald
// keeps its data: snapshot recovery uses file:// locations inside it. Without it (or with
// --skip-snapshots) the snapshot step is skipped with a message.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { parseArgs } from "node:util";

import { QdrantClient } from "@qdrant/js-client-rest";
import { QdrantVectorStore } from "@langchain/qdrant";
import { Embeddings } from "@langchain/core/embeddings";
import { Document } from "@langchain/core/documents";

const { values: args } = parseArgs({
  options: {
    url: { type: "string", default: "http://127.0.0.1:6333" },
    "data-dir": { type: "string" },
    "skip-snapshots": { type: "boolean", default: false },
    points: { type: "string", default: "1200" },
  },
});

// ---------------------------------------------------------------------------------------------
// Helpers

const warnings = [];
const realWarn = console.warn;
console.warn = (...a) => {
  warnings.push(a.join(" "));
  realWarn(...a);
};

let step = "start";
const timings = [];
async function run(name, fn) {
  step = name;
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  timings.push([name, ms]);
  console.log(`ok   ${name} (${ms.toFixed(0)} ms)`);
}

/** Deterministic PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A UUID made from a number, in the canonical lowercase form the server answers with. */
function uuidOf(i) {
  const hex = createHash("sha256").update(`point-${i}`).digest("hex").slice(0, 32);
  const v = hex.slice(0, 12) + "4" + hex.slice(13, 16) + "8" + hex.slice(17, 32);
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20)}`;
}

const f32 = (x) => Math.fround(x);

function normalise(v) {
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
}

function cosine(a, b) {
  let dot = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return dot / Math.sqrt(aa * bb);
}

/** Server order of ids: integers by value, then UUIDs by their bytes (= lowercase hex text). */
function compareIds(a, b) {
  const an = typeof a === "number", bn = typeof b === "number";
  if (an !== bn) return an ? -1 : 1;
  if (an) return a - b;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The server's ranking equals the exact one: at every rank the score is the exact score of that
 * rank, and every returned id really has that score (ties may come in either order).
 */
function assertExact(got, exact, k, what) {
  assert.equal(got.length, Math.min(k, exact.length), `${what}: ${got.length} results`);
  got.forEach((p, rank) => {
    assert.ok(Math.abs(p.score - exact[rank].score) < 1e-4,
      `${what}: rank ${rank} score ${p.score}, exact ${exact[rank].score}`);
    const own = scoreById.get(String(p.id));
    assert.ok(own !== undefined, `${what}: unknown id ${p.id}`);
    assert.ok(Math.abs(p.score - own(exact.query)) < 1e-4, `${what}: id ${p.id} has the wrong score`);
  });
}

let scoreById = new Map();

async function expectApiError(promise, status, part, what) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.status, status, `${what}: status ${e.status} (${e.message})`);
    const msg = e.data?.status?.error ?? "";
    assert.ok(msg.includes(part), `${what}: message "${msg}" lacks "${part}"`);
    return;
  }
  assert.fail(`${what}: no error`);
}

// ---------------------------------------------------------------------------------------------
// Data: N points of dim D, payloads with nested objects and arrays.

const N = Number(args.points);
const D = 24;
const NAME = "compat";
const random = rng(20261122);
const points = [];
for (let i = 0; i < N; i++) {
  const vector = Array.from({ length: D }, () => f32(random() * 2 - 1));
  const id = i < N / 2 ? i * 3 + 1 : uuidOf(i);  // integers (list form), UUIDs (batch form)
  points.push({
    id,
    vector,
    payload: {
      i,
      group: i % 5,
      tag: `t${i % 7}`,
      even: i % 2 === 0,
      price: Math.round(random() * 10000) / 100,
      tags: i % 11 === 0 ? [] : [`k${i % 3}`, `k${(i + 1) % 4}`],
      city: { name: `c${i % 13}`, districts: [{ pop: i % 50 }, { pop: (i * 7) % 50 }] },
      ...(i % 17 === 0 ? { note: null } : {}),
    },
  });
}
const byId = new Map(points.map((p) => [String(p.id), p]));
const unit = new Map(points.map((p) => [String(p.id), normalise(p.vector)]));
scoreById = new Map(points.map((p) => [String(p.id), (q) => cosine(p.vector, q)]));

/** Local evaluation of the filters used below (the reference for count and filtered query). */
const filters = [
  [{ must: [{ key: "group", match: { value: 2 } }] }, (p) => p.payload.group === 2],
  [{ must: [{ key: "tag", match: { any: ["t1", "t3"] } }] }, (p) => ["t1", "t3"].includes(p.payload.tag)],
  [{ must: [{ key: "tag", match: { except: ["t1", "t3"] } }] }, (p) => !["t1", "t3"].includes(p.payload.tag)],
  [{ must: [{ key: "price", range: { gte: 20, lt: 60.5 } }] }, (p) => p.payload.price >= 20 && p.payload.price < 60.5],
  [{ must_not: [{ key: "even", match: { value: true } }] }, (p) => !p.payload.even],
  [{ should: [{ key: "group", match: { value: 0 } }, { key: "tag", match: { value: "t6" } }] },
    (p) => p.payload.group === 0 || p.payload.tag === "t6"],
  [{ must: [{ key: "city.districts[].pop", range: { lt: 5 } }] },
    (p) => p.payload.city.districts.some((d) => d.pop < 5)],
  [{ must: [{ key: "city.districts.pop", range: { lt: 5 } }] }, () => false],
  [{ must: [{ key: "tags", match: { value: "k2" } }] }, (p) => p.payload.tags.includes("k2")],
  [{ must: [{ is_empty: { key: "tags" } }] }, (p) => p.payload.tags.length === 0],
  [{ must: [{ is_null: { key: "note" } }] }, (p) => p.payload.note === null],
  [{ must: [{ has_id: points.slice(0, 40).map((p) => p.id) }, { key: "group", match: { value: 1 } }] },
    (p) => p.payload.i < 40 && p.payload.group === 1],
  [{ must: [{ must: [{ key: "group", match: { any: [1, 2] } }], must_not: [{ key: "city.name", match: { value: "c3" } }] }] },
    (p) => [1, 2].includes(p.payload.group) && p.payload.city.name !== "c3"],
];

function exactTopK(query, keep, k) {
  const scored = [];
  for (const p of points) {
    if (keep && !keep(p)) continue;
    scored.push({ id: p.id, score: cosine(p.vector, query) });
  }
  scored.sort((a, b) => b.score - a.score || compareIds(a.id, b.id));
  const out = scored.slice(0, k + 5);
  out.query = query;
  return out;
}

// ---------------------------------------------------------------------------------------------

const client = new QdrantClient({ url: args.url, checkCompatibility: true });

async function main() {
  await run("service: version and collections list", async () => {
    const v = await client.versionInfo();
    assert.match(v.version, /^1\.(18|19)\./);
    for (const c of (await client.getCollections()).collections) {
      if (c.name.startsWith(NAME)) await client.deleteCollection(c.name);
    }
    assert.equal(await client.deleteCollection(NAME), false, "deleting a missing collection");
  });

  await run("create collection, 409 on re-create, 404 on missing", async () => {
    assert.equal(await client.createCollection(NAME, { vectors: { size: D, distance: "Cosine" } }), true);
    await expectApiError(client.createCollection(NAME, { vectors: { size: D, distance: "Cosine" } }),
      409, "already exists", "re-create");
    await expectApiError(client.getCollection(`${NAME}_missing`), 404, "doesn't exist", "missing");
    assert.deepEqual(await client.collectionExists(NAME), { exists: true });
    assert.ok((await client.getCollections()).collections.some((c) => c.name === NAME));
    const idx = await client.createPayloadIndex(NAME, { field_name: "group", field_schema: "integer", wait: true });
    assert.equal(idx.status, "completed");
  });

  await run(`upsert ${N} points: list form and batch form`, async () => {
    const half = points.slice(0, N / 2), rest = points.slice(N / 2);
    for (let at = 0; at < half.length; at += 250) {
      const r = await client.upsert(NAME, { wait: true, points: half.slice(at, at + 250) });
      assert.equal(r.status, "completed");
    }
    for (let at = 0; at < rest.length; at += 250) {
      const chunk = rest.slice(at, at + 250);
      const r = await client.upsert(NAME, {
        wait: true,
        batch: { ids: chunk.map((p) => p.id), vectors: chunk.map((p) => p.vector), payloads: chunk.map((p) => p.payload) },
      });
      assert.equal(r.status, "completed");
    }
    const info = await client.getCollection(NAME);
    assert.equal(info.status, "green");
    assert.equal(info.points_count, N);
    assert.equal(info.config.params.vectors.size, D);
    assert.equal(info.payload_schema.group.data_type, "integer");
    assert.equal(info.payload_schema.group.points, N);
    await expectApiError(client.upsert(NAME, { wait: false, points: [{ id: 1, vector: [1, 2, 3] }] }),
      400, "dimension", "wrong dimension with wait=false");
    const acked = await client.upsert(NAME, { wait: false, points: [points[0]] });
    assert.equal(acked.status, "acknowledged");
  });

  await run("retrieve by integer and UUID ids, with vectors", async () => {
    const ids = [points[0].id, points[N - 1].id, 999999999, points[N / 2].id, points[7].id];
    const got = await client.retrieve(NAME, { ids, with_vector: true });
    assert.deepEqual(got.map((r) => r.id), [points[0].id, points[N - 1].id, points[N / 2].id, points[7].id]);
    for (const r of got) {
      assert.deepEqual(r.payload, byId.get(String(r.id)).payload);
      const want = unit.get(String(r.id));  // Cosine: stored normalised
      r.vector.forEach((x, j) => assert.ok(Math.abs(x - want[j]) < 1e-5, "vector"));
    }
    const upper = String(points[N - 1].id).toUpperCase();
    const one = await (await fetch(`${args.url}/collections/${NAME}/points/${upper}`)).json();
    assert.equal(one.result.id, points[N - 1].id, "a UUID comes back in lowercase");
    assert.equal(one.status, "ok");
  });

  await run("scroll through every point in id order", async () => {
    const seen = [];
    let offset;
    let pages = 0;
    do {
      const page = await client.scroll(NAME, { limit: 97, offset, with_payload: true });
      for (const p of page.points) {
        assert.deepEqual(p.payload, byId.get(String(p.id)).payload);
        seen.push(p.id);
      }
      offset = page.next_page_offset ?? undefined;
      pages++;
    } while (offset !== undefined && pages < 1000);
    assert.equal(seen.length, N);
    assert.deepEqual(seen, points.map((p) => p.id).sort(compareIds));
    const filtered = await client.scroll(NAME, { filter: filters[0][0], limit: N });
    assert.equal(filtered.points.length, points.filter(filters[0][1]).length);
  });

  await run("count with filters", async () => {
    assert.equal((await client.count(NAME)).count, N);
    for (const [filter, keep] of filters) {
      const want = points.filter(keep).length;
      assert.equal((await client.count(NAME, { filter, exact: true })).count, want, JSON.stringify(filter));
    }
    await expectApiError(client.count(NAME, { filter: { must: [{ key: "group" }] } }), 422,
      "At least one field condition must be specified", "empty field condition");
  });

  await run("query, search and their batches against exact brute force", async () => {
    const qrand = rng(7);
    const queries = Array.from({ length: 25 }, () => Array.from({ length: D }, () => f32(qrand() * 2 - 1)));
    let hits = 0, total = 0;
    for (const [qi, q] of queries.entries()) {
      const exact = exactTopK(q, null, 10);
      const r = await client.query(NAME, { query: q, limit: 10, params: { exact: true }, with_payload: true });
      assertExact(r.points, exact, 10, `query ${qi}`);
      for (const p of r.points) assert.deepEqual(p.payload, byId.get(String(p.id)).payload);
      // The HNSW path (no exact): recall against the exact top 10.
      const approx = await client.query(NAME, { query: q, limit: 10, params: { hnsw_ef: 128 } });
      const want = new Set(exact.slice(0, 10).map((e) => String(e.id)));
      hits += approx.points.filter((p) => want.has(String(p.id))).length;
      total += 10;
      // Filtered, with offset.
      const [filter, keep] = filters[qi % filters.length];
      const fexact = exactTopK(q, keep, 15).slice(3);
      fexact.query = q;
      const f = await client.query(NAME, { query: q, filter, limit: 5, offset: 3, params: { exact: true } });
      assertExact(f.points, fexact, 5, `filtered query ${qi}`);
      // Legacy search.
      const s = await client.search(NAME, { vector: q, limit: 5, params: { exact: true } });
      assertExact(s, exact, 5, `search ${qi}`);
      // score_threshold keeps scores >= t for Cosine.
      const t = exact[6].score;
      const th = await client.query(NAME, { query: q, limit: 50, score_threshold: t - 1e-6, params: { exact: true } });
      assert.ok(th.points.length >= 6 && th.points.length <= 8, `threshold kept ${th.points.length}`);
      assert.ok(th.points.every((p) => p.score >= t - 1e-4));
    }
    assert.ok(hits / total >= 0.95, `HNSW recall@10 ${hits / total}`);
    const exactOf = (q) => exactTopK(q, null, 3);
    const qb = await client.queryBatch(NAME, {
      searches: queries.slice(0, 4).map((q) => ({ query: q, limit: 3, params: { exact: true } })),
    });
    assert.equal(qb.length, 4);
    qb.forEach((r, i) => assertExact(r.points, exactOf(queries[i]), 3, `queryBatch ${i}`));
    const sb = await client.searchBatch(NAME, {
      searches: queries.slice(0, 4).map((q) => ({ vector: q, limit: 3, params: { exact: true } })),
    });
    sb.forEach((r, i) => assertExact(r, exactOf(queries[i]), 3, `searchBatch ${i}`));
    // Query by point id: that point's vector, the point itself left out.
    const byPoint = await client.query(NAME, { query: points[5].id, limit: 3, params: { exact: true } });
    const ex = exactTopK(points[5].vector, (p) => p.id !== points[5].id, 3);
    assertExact(byPoint.points, ex, 3, "query by id");
    // No query: id order, like scroll.
    const plain = await client.query(NAME, { limit: 4, offset: 2 });
    assert.deepEqual(plain.points.map((p) => p.id), points.map((p) => p.id).sort(compareIds).slice(2, 6));
    const big = await client.query(NAME, { query: queries[0], limit: Number.MAX_SAFE_INTEGER });
    assert.equal(big.points.length, N);
  });

  await run("set, overwrite, delete and clear payloads", async () => {
    const a = points[1].id, b = points[N - 2].id;
    await client.setPayload(NAME, { payload: { extra: { x: 1 } }, points: [a, b], wait: true });
    let got = await client.retrieve(NAME, { ids: [a] });
    assert.deepEqual(got[0].payload, { ...points[1].payload, extra: { x: 1 } });
    await client.setPayload(NAME, { payload: { y: 2 }, points: [a], key: "extra", wait: true });
    got = await client.retrieve(NAME, { ids: [a] });
    assert.deepEqual(got[0].payload.extra, { x: 1, y: 2 });
    await client.overwritePayload(NAME, { payload: { only: true }, points: [b], wait: true });
    got = await client.retrieve(NAME, { ids: [b] });
    assert.deepEqual(got[0].payload, { only: true });
    await client.deletePayload(NAME, { keys: ["extra", "city.districts[].pop"], points: [a], wait: true });
    got = await client.retrieve(NAME, { ids: [a] });
    const { extra, ...without } = points[1].payload;
    assert.equal(extra, undefined);
    assert.deepEqual(got[0].payload, { ...without, city: { name: without.city.name, districts: [{}, {}] } });
    await client.clearPayload(NAME, { points: [a], wait: true });
    got = await client.retrieve(NAME, { ids: [a] });
    assert.deepEqual(got[0].payload, {});
    await client.setPayload(NAME, { payload: { flagged: 1 }, filter: filters[0][0], wait: true });
    assert.equal((await client.count(NAME, { filter: { must: [{ key: "flagged", match: { value: 1 } }] } })).count,
      points.filter(filters[0][1]).length);
    // Put the two points back as they were.
    await client.upsert(NAME, { wait: true, points: [points[1], points[N - 2]] });
    const ops = await client.batchUpdate(NAME, {
      wait: true,
      operations: [{ set_payload: { payload: { batch: 1 }, points: [a] } }, { clear_payload: { points: [a] } }],
    });
    assert.equal(ops.length, 2);
    await client.upsert(NAME, { wait: true, points: [points[1]] });
  });

  let snapshotCount = N;
  await run("snapshot, then recover it after deletes", async () => {
    if (!args["data-dir"] || args["skip-snapshots"]) {
      console.log("skip snapshots: no --data-dir given (the server's data directory)");
      return;
    }
    const snap = await client.createSnapshot(NAME, { wait: true });
    assert.ok(snap && snap.name, "snapshot description");
    assert.ok(snap.size > 0);
    const list = await client.listSnapshots(NAME);
    assert.ok(list.some((s) => s.name === snap.name));
    const file = await fetch(`${args.url}/collections/${NAME}/snapshots/${encodeURIComponent(snap.name)}`);
    assert.equal(file.status, 200);
    const bytes = Buffer.from(await file.arrayBuffer());
    assert.equal(bytes.length, snap.size);
    if (snap.checksum) assert.equal(createHash("sha256").update(bytes).digest("hex"), snap.checksum);
    // Change the collection, then recover: the snapshot's points come back.
    await client.delete(NAME, { points: points.slice(0, 100).map((p) => p.id), wait: true });
    assert.equal((await client.count(NAME)).count, N - 100);
    const location = `file://${args["data-dir"]}/snapshots/${NAME}/${snap.name}`;
    assert.equal(await client.recoverSnapshot(NAME, { location, checksum: snap.checksum }), true);
    assert.equal((await client.count(NAME)).count, snapshotCount);
    const back = await client.retrieve(NAME, { ids: [points[3].id], with_vector: true });
    assert.deepEqual(back[0].payload, points[3].payload);
    // Into a new collection, too.
    assert.equal(await client.recoverSnapshot(`${NAME}_restored`, { location }), true);
    assert.equal((await client.count(`${NAME}_restored`)).count, snapshotCount);
    await expectApiError(client.recoverSnapshot(NAME, { location: "file://relative/x.snapshot" }), 400,
      "Invalid snapshot URI", "relative file URI");
    assert.equal(await client.deleteSnapshot(NAME, snap.name), true);
    assert.equal(await client.deleteCollection(`${NAME}_restored`), true);
  });

  await run("delete by ids and by filter", async () => {
    const ids = points.slice(0, 50).map((p) => p.id);
    const r = await client.delete(NAME, { points: ids, wait: true });
    assert.equal(r.status, "completed");
    assert.equal((await client.count(NAME)).count, snapshotCount - 50);
    const [filter, keep] = filters[1];
    const left = points.slice(50);
    await client.delete(NAME, { filter, wait: true });
    assert.equal((await client.count(NAME)).count, left.filter((p) => !keep(p)).length);
    assert.equal((await client.count(NAME, { filter })).count, 0);
  });

  await run("LangChain QdrantVectorStore: addDocuments, similaritySearch, delete", async () => {
    class HashEmbeddings extends Embeddings {
      constructor() {
        super({});
      }
      embed(text) {
        const v = new Array(16).fill(0.01);
        for (const word of text.toLowerCase().split(/\W+/).filter(Boolean)) {
          const h = createHash("md5").update(word).digest();
          v[h[0] % 16] += h[1] & 1 ? 1 : -0.5;
        }
        return v;
      }
      async embedDocuments(texts) {
        return texts.map((t) => this.embed(t));
      }
      async embedQuery(text) {
        return this.embed(text);
      }
    }
    const embeddings = new HashEmbeddings();
    const words = ["ocean", "whale", "ship", "captain", "union", "state", "congress", "tax", "war", "peace",
      "harpoon", "sea", "law", "vote", "storm", "sail"];
    const wr = rng(99);
    const docs = Array.from({ length: 60 }, (_, i) => new Document({
      pageContent: Array.from({ length: 6 }, () => words[Math.floor(wr() * words.length)]).join(" ") + ` doc${i}`,
      metadata: { i, topic: i % 2 ? "sea" : "state" },
    }));
    const store = new QdrantVectorStore(embeddings, { url: args.url, collectionName: `${NAME}_lc` });
    await store.addDocuments(docs);
    const info = await client.getCollection(`${NAME}_lc`);
    assert.equal(info.points_count, docs.length);
    assert.equal(info.config.params.vectors.distance, "Cosine");
    const docVec = docs.map((d) => embeddings.embed(d.pageContent));
    for (const query of ["whale ship sea", "congress tax vote", "storm"]) {
      const qv = embeddings.embed(query);
      const exact = docs.map((d, i) => ({ i, score: cosine(docVec[i], qv), topic: d.metadata.topic }))
        .sort((a, b) => b.score - a.score || a.i - b.i);
      const got = await store.similaritySearchWithScore(query, 5);
      assert.equal(got.length, 5);
      got.forEach(([doc, score], rank) => {
        assert.ok(Math.abs(score - exact[rank].score) < 1e-4, `LangChain rank ${rank}`);
        const i = doc.metadata.i;
        assert.equal(doc.pageContent, docs[i].pageContent);
        assert.ok(Math.abs(cosine(docVec[i], qv) - score) < 1e-4);
      });
      const filtered = await store.similaritySearch(query, 4, { must: [{ key: "metadata.topic", match: { value: "sea" } }] });
      const fexact = exact.filter((e) => e.topic === "sea");
      assert.equal(filtered.length, 4);
      filtered.forEach((doc, rank) => {
        assert.equal(doc.metadata.topic, "sea");
        assert.ok(Math.abs(cosine(docVec[doc.metadata.i], qv) - fexact[rank].score) < 1e-4);
      });
    }
    const all = await client.scroll(`${NAME}_lc`, { limit: 100 });
    await store.delete({ ids: all.points.slice(0, 10).map((p) => p.id) });
    assert.equal((await client.count(`${NAME}_lc`)).count, docs.length - 10);
    await store.delete({ filter: { must: [{ key: "metadata.topic", match: { value: "state" } }] } });
    assert.equal((await client.count(`${NAME}_lc`)).count,
      all.points.slice(10).filter((p) => p.payload.metadata.topic === "sea").length);
    // A failed upsert is rethrown with the server's message.
    await assert.rejects(store.addVectors([[1, 2, 3]], [new Document({ pageContent: "x" })]), /dimension/);
    assert.equal(await client.deleteCollection(`${NAME}_lc`), true);
  });

  await run("no compatibility warnings from the client", async () => {
    assert.equal(await client.deleteCollection(NAME), true);
    assert.deepEqual(warnings.filter((w) => /incompatible|server version/i.test(w)), []);
  });
}

main().then(
  () => {
    console.log(`compat: all ${timings.length} steps passed`);
    process.exit(0);
  },
  (e) => {
    console.error(`FAIL ${step}: ${e?.stack ?? e}`);
    if (e?.data) console.error(`server said: ${JSON.stringify(e.data)}`);
    process.exit(1);
  },
);
