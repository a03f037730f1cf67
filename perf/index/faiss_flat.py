#!/usr/bin/python3
"""FAISS IndexFlat reference for `shoal-perf flat`: one search() call of BATCH queries on the
same base, top-k included, best of >= 3 runs (and >= MIN_TIME seconds).

    faiss_flat.py BASE.fvecs QUERY.fvecs METRIC(l2|ip|cosine) K BATCH THREADS [MIN_TIME]

Prints one JSON object: {"library", "threads", "batch", "seconds", "qps"}.
THREADS=1 matches shoal's one-core search; more is FAISS's own OpenMP parallelism.
Needs Debian's python3-faiss and python3-numpy (tools/deps.sh bench)."""
import json
import sys
import time

import faiss
import numpy as np


def read_fvecs(path):
    raw = np.fromfile(path, dtype=np.int32)
    dim = raw[0]
    return raw.reshape(-1, dim + 1)[:, 1:].copy().view(np.float32)


def main():
    base, query = read_fvecs(sys.argv[1]), read_fvecs(sys.argv[2])
    metric, k, batch, threads = sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    min_time = float(sys.argv[7]) if len(sys.argv) > 7 else 1.0
    faiss.omp_set_num_threads(threads)
    queries = np.ascontiguousarray(np.resize(query, (batch, query.shape[1])))
    if metric == "cosine":
        faiss.normalize_L2(base)
        faiss.normalize_L2(queries)
    index = faiss.IndexFlatL2(base.shape[1]) if metric == "l2" else faiss.IndexFlatIP(base.shape[1])
    index.add(base)
    best, start, runs = float("inf"), time.perf_counter(), 0
    while runs < 3 or (time.perf_counter() - start < min_time and runs < 50):
        t = time.perf_counter()
        index.search(queries, k)
        best = min(best, time.perf_counter() - t)
        runs += 1
    print(json.dumps({"library": "faiss " + faiss.__version__ + " IndexFlat", "threads": threads,
                      "batch": batch, "seconds": best, "qps": batch / best}))


if __name__ == "__main__":
    main()
