#pragma once
// Commands that read files directly, with no server: they validate every checksum and exit
// non-zero when something is damaged. Safe to run beside a live server (read-only).

#include <string>
#include <vector>

namespace shoal::ctl {

/// shoalctl log-dump DIR [--records]: every segment of a shard's log (DIR is the log directory
/// or the shard directory), and with --records every record.
int log_dump(const std::vector<std::string>& args);
/// shoalctl snapshot-inspect FILE: a shard snapshot (.snap) or a collection archive
/// (.snapshot / .arc).
int snapshot_inspect(const std::vector<std::string>& args);

}  // namespace shoal::ctl
