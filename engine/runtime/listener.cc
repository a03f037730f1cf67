#include "engine/runtime/listener.h"

#include <boost/asio/socket_base.hpp>

#include "engine/runtime/runtime.h"

namespace shoal::rt {
namespace {

using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

/// error::address_in_use when a socket of anyone (this process has none yet) holds `ep`.
error_code probe_address_free(asio::io_context& ioc, const asio::ip::tcp::endpoint& ep) {
  asio::ip::tcp::acceptor probe(ioc);
  error_code ec;
  probe.open(ep.protocol(), ec);
  // SO_REUSEADDR only skips connections of an earlier run still in TIME_WAIT; a listening socket
  // on the address still makes the bind fail.
  if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) probe.bind(ep, ec);
  error_code ignored;
  probe.close(ignored);  // never listened: the address is free again at once
  return ec;
}

}  // namespace

result<std::unique_ptr<asio::ip::tcp::acceptor>> listen_on_this_core(
    const asio::ip::tcp::endpoint& ep) {
  auto& ioc = runtime::current().local().context();
  error_code ec;
  if (this_core() == core_id(0) && ep.port() != 0) {
    if (ec = probe_address_free(ioc, ep); ec) return ec;
  }
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(ioc);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->set_option(reuse_port(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec;
  return acceptor;
}

}  // namespace shoal::rt
