#include "net/rest/vector_list_body.h"

#include <utility>

#include "net/rest/emptied_arrays.h"
#include "net/rest/json_walker.h"
#include "net/rest/number_array.h"
#include "net/rest/rest_io.h"

namespace shoal::rest {
namespace {

struct lifted {
  std::vector<std::optional<std::vector<float>>> vectors;
  std::vector<text_range> ranges;
};

using field = json_walker::field;

/// At an item's `{`: past its `}`, with its vector read when it is an array of numbers.
bool walk_item(std::string_view text, json_walker& body, const vector_list_shape& shape,
               lifted& out) {
  std::optional<std::vector<float>> vector;
  bool walked = body.object([&](std::string_view key) {
    // The first such field; a repeated one is stepped over here and refused by the DOM.
    if (vector || key != shape.vector || body.peek() != '[') return field::skip;
    size_t begin = body.pos(), pos = begin;
    std::vector<float> values;
    if (!read_float_array(text, pos, values, shape.max_dimensions)) return field::fail;
    out.ranges.emplace_back(begin, pos);
    vector = std::move(values);
    body.move_to(pos);
    return field::taken;
  });
  if (!walked) return false;
  out.vectors.push_back(std::move(vector));
  return true;
}

/// At an array's `[`: past its `]`, each element handed to `element` (which must move past it),
/// with no more than the request's limit of elements.
template <typename Element>
bool walk_array(json_walker& body, const vector_list_shape& shape, lifted& out, Element&& element) {
  if (!body.punct('[')) return false;
  if (body.punct(']')) return true;
  for (;;) {
    if (out.vectors.size() == shape.max_items) return false;
    body.skip_space();
    if (!element()) return false;
    if (body.punct(',')) continue;
    if (body.punct(']')) return true;
    return false;
  }
}

/// At the list's `[`: past its `]`.
bool walk_list(std::string_view text, json_walker& body, const vector_list_shape& shape,
               lifted& out) {
  return walk_array(body, shape, out, [&] {
    if (body.peek() == '{') return walk_item(text, body, shape, out);
    out.vectors.emplace_back();  // not an object: the decoder says so
    return body.skip_value();
  });
}

/// At the column's `[`: past its `]`, each element that is an array read as a vector.
bool walk_column(std::string_view text, json_walker& body, const vector_list_shape& shape,
                 lifted& out) {
  return walk_array(body, shape, out, [&] {
    if (body.peek() != '[') {
      out.vectors.emplace_back();  // null, or not a vector: the decoder says so
      return body.skip_value();
    }
    size_t begin = body.pos(), pos = begin;
    std::vector<float> values;
    if (!read_float_array(text, pos, values, shape.max_dimensions)) return false;
    out.ranges.emplace_back(begin, pos);
    out.vectors.emplace_back(std::move(values));
    body.move_to(pos);
    return true;
  });
}

/// At the column form's `{`: past its `}`, with its column walked when it is an array.
bool walk_columns(std::string_view text, json_walker& body, const vector_list_shape& shape,
                  lifted& out) {
  bool column_seen = false;
  return body.object([&](std::string_view key) {
    if (column_seen || key != shape.column || body.peek() != '[') return field::skip;
    column_seen = true;
    return walk_column(text, body, shape, out) ? field::taken : field::fail;
  });
}

}  // namespace

std::optional<vector_list_body> parse_vector_list_body_fast(std::string_view text,
                                                            const vector_list_shape& shape) {
  json_walker body(text);
  lifted found;
  // Keys seen at all, and the first of each walked (a repeated key is stepped over here and
  // refused by the DOM). A body with both forms is left to the ordinary path.
  bool list_seen = false, columns_seen = false;
  bool walked = body.object([&](std::string_view key) {
    if (key == shape.list) {
      bool first = !std::exchange(list_seen, true);
      if (!first || body.peek() != '[') return field::skip;
      return walk_list(text, body, shape, found) ? field::taken : field::fail;
    }
    if (!shape.columns.empty() && key == shape.columns) {
      bool first = !std::exchange(columns_seen, true);
      if (!first || body.peek() != '{') return field::skip;
      return walk_columns(text, body, shape, found) ? field::taken : field::fail;
    }
    return field::skip;
  });
  if (!walked || (list_seen && columns_seen)) return std::nullopt;
  body.skip_space();
  if (!body.at_end() || found.ranges.empty()) return std::nullopt;  // nothing to gain
  auto parsed = parse_with_arrays_emptied(text, found.ranges);
  if (!parsed) return std::nullopt;  // the ordinary parse names the error
  return vector_list_body{*parsed, std::move(found.vectors), columns_seen};
}

data::decoded<vector_list_body> parse_vector_list_body(const http::request_context& ctx,
                                                       const vector_list_shape& shape) {
  const auto& body = ctx.body();
  if (auto fast = parse_vector_list_body_fast(body, shape)) return std::move(*fast);
  auto parsed = parse_body(ctx);
  if (!parsed) return parsed.error();
  return vector_list_body{*parsed, {}};
}

}  // namespace shoal::rest
