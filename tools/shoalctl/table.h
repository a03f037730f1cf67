#pragma once
// Output helpers shared by shoalctl's commands.

#include <string>
#include <vector>

#include <simdjson.h>

namespace shoal::ctl {

/// Columns padded to their widest cell, two spaces apart.
void print_table(const std::vector<std::vector<std::string>>& rows);
/// A JSON scalar as text ("-" for anything else; booleans as yes / no).
std::string text_of(simdjson::dom::element e);

}  // namespace shoal::ctl
