#pragma once
// Listening sockets for per-core servers (HTTP, RPC). Every core binds its own socket to the same
// address with SO_REUSEPORT, and the kernel spreads new connections over them.
//
// SO_REUSEPORT also lets *another process* of the same user join that group without an error and
// take a share of the connections: say a second shoald started on the same port with another data
// directory, or an old one still draining. Clients would then reach two servers' data at random.
// So the socket of core 0, which binds first, is preceded by a plain bind (no SO_REUSEPORT) that
// fails with "address in use" when anyone holds the address. Two processes starting at the same
// instant can still both pass: this catches the common mistake; it is not a lock.

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "engine/common/result.h"
#include "engine/runtime/asio.h"

namespace shoal::rt {

/// Opens, binds and listens on `ep` for this core (call on the core that will accept). Core 0
/// must be the first to bind; with port 0 the kernel picks a port, which the others then join.
result<std::unique_ptr<asio::ip::tcp::acceptor>> listen_on_this_core(
    const asio::ip::tcp::endpoint& ep);

}  // namespace shoal::rt
