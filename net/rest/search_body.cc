#include "net/rest/search_body.h"

#include "net/rest/emptied_arrays.h"
#include "net/rest/json_walker.h"
#include "net/rest/number_array.h"
#include "net/rest/rest_io.h"

namespace shoal::rest {

std::optional<search_body> parse_search_body_fast(std::string_view text,
                                                  std::string_view vector_field,
                                                  size_t max_dimensions) {
  json_walker body(text);
  using field = json_walker::field;
  std::vector<float> vector;
  size_t vector_begin = 0, vector_end = 0;
  bool found = false;
  bool walked = body.object([&](std::string_view key) {
    // The first such field; a repeated one is stepped over here and refused by the DOM.
    if (found || key != vector_field || body.peek() != '[') return field::skip;
    vector_begin = body.pos();
    size_t pos = vector_begin;
    if (!read_float_array(text, pos, vector, max_dimensions)) return field::fail;
    vector_end = pos;
    body.move_to(pos);
    found = true;
    return field::taken;
  });
  if (!walked) return std::nullopt;
  body.skip_space();
  if (!body.at_end() || !found) return std::nullopt;  // no vector: nothing to gain
  text_range range{vector_begin, vector_end};
  auto parsed = parse_with_arrays_emptied(text, {&range, 1});
  if (!parsed) return std::nullopt;  // the ordinary parse names the error
  return search_body{*parsed, std::move(vector)};
}

data::decoded<search_body> parse_search_body(const http::request_context& ctx,
                                             std::string_view vector_field, size_t max_dimensions) {
  const auto& body = ctx.body();
  if (auto fast = parse_search_body_fast(body, vector_field, max_dimensions)) {
    return std::move(*fast);
  }
  auto parsed = parse_body(ctx);
  if (!parsed) return parsed.error();
  return search_body{*parsed, std::nullopt};
}

}  // namespace shoal::rest
