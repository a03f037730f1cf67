#include "net/http/fetch.h"

#include "net/http/client.h"

namespace shoal::http {

awaitable<result<fetched>> fetch(std::string url, size_t max_bytes,
                                 std::chrono::milliseconds timeout) {
  auto parsed = parse_http_url(url);
  if (!parsed)
    co_return boost::system::errc::make_error_code(boost::system::errc::invalid_argument);
  client_connection conn(*parsed);
  auto r = co_await conn.request(boost::beast::http::verb::get, parsed->target, {}, {}, timeout,
                                 max_bytes);
  conn.close();
  if (!r) co_return r.error();
  co_return fetched{r->status, std::move(r->body)};
}

}  // namespace shoal::http
