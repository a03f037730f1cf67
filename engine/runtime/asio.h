#pragma once
// The Asio names the runtime and its users share.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace shoal {
namespace asio = boost::asio;
template <typename T = void>
using awaitable = asio::awaitable<T>;
using asio::use_awaitable;
inline constexpr auto use_nothrow_awaitable = asio::as_tuple(asio::use_awaitable);
}  // namespace shoal
