#pragma once
// The shoal-perf subcommands. Each lives in its own file (cmd_<name>.cc) and returns the exit
// code: 0 success, 1 failure while running, 2 bad command line.

#include <string>
#include <vector>

namespace shoal::perf {

using args_t = std::vector<std::string>;

struct subcommand {
  const char* name;
  const char* summary;
  int (*run)(const args_t& args);
};

int run_index(const args_t& args);
int run_flat(const args_t& args);
int run_gen(const args_t& args);
int run_ingest(const args_t& args);
int run_search(const args_t& args);

/// Every subcommand, in the order --help lists them.
inline const subcommand kSubcommands[] = {
    {"index", "build an HNSW index from .fvecs and measure recall@10 and QPS per ef", &run_index},
    {"flat", "exact search: single-query scan bandwidth and batch (sgemm) throughput", &run_flat},
    {"gen", "write a seeded clustered synthetic data set with exact ground truth", &run_gen},
    {"ingest", "load vectors into a running server over rpc:// or http://", &run_ingest},
    {"search", "query load (closed or open loop) with recall and latency percentiles", &run_search},
};

}  // namespace shoal::perf
