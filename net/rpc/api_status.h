#pragma once
// Every mapping from an engine error or a decoder's complaint to an RPC status and message, in
// one place (the twin of net/rest/rest_io.cc for HTTP): the same error gets the same class of
// answer from both APIs.

#include <string_view>

#include "engine/common/result.h"
#include "engine/data/input_error.h"
#include "net/rpc/status.h"

namespace shoal::rpc {

/// An engine error (shard, log, runtime, system) on `collection`.
error error_of(const error_code& ec, std::string_view collection);
/// A decoder's complaint: format -> format_error, validation -> validation_error,
/// wrong_input -> wrong_input, not_found -> not_found.
error error_of(const data::input_error& e);

}  // namespace shoal::rpc
