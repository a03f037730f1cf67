#include "net/http/fetch.h"

#include "engine/runtime/blocking_pool.h"
#include "engine/runtime/runtime.h"
#include "net/http/client.h"

namespace shoal::http {
namespace {

// The system's trust store, loaded once, in the blocking pool (it reads files).
awaitable<result<tls::context_ptr>> system_trust() {
  co_return co_await rt::runtime::current().blocking().run(
      rt::blocking_reason::read, []() -> result<tls::context_ptr> {
        static const auto made = tls::make_client_context("");
        if (!made) return boost::system::errc::make_error_code(boost::system::errc::io_error);
        return *made;
      });
}

}  // namespace

awaitable<result<fetched>> fetch(std::string url, size_t max_bytes,
                                 std::chrono::milliseconds timeout) {
  auto parsed = parse_http_url(url);
  if (!parsed)
    co_return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  tls::context_ptr trust;
  if (parsed->tls) {
    auto t = co_await system_trust();
    if (!t) co_return t.error();
    trust = *t;
  }
  client_connection conn(*parsed, trust);
  auto r = co_await conn.request(boost::beast::http::verb::get, parsed->target, {}, {}, timeout,
                                 max_bytes);
  conn.close();
  if (!r) co_return r.error();
  co_return fetched{r->status, std::move(r->body)};
}

}  // namespace shoal::http
