#pragma once
// A Beast body like string_body whose storage keeps `kBodyPadding` spare bytes of capacity after
// the content, so a JSON parser that reads a little past the end (simdjson needs
// SIMDJSON_PADDING readable bytes) can parse the body where it lies instead of copying it
// (PRACTICES P13). The value is a plain std::string: handlers see `req.body()` as before.
//
// With a Content-Length the storage is reserved once for length + padding; a chunked body grows
// as it arrives and gets its padding when it is complete. The padding bytes are not part of the
// string and their content is unspecified.

#include <cstddef>
#include <cstring>
#include <string>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

namespace shoal::http {

inline constexpr size_t kBodyPadding = 64;

struct padded_string_body {
  using value_type = std::string;

  static std::uint64_t size(const value_type& body) { return body.size(); }

  class reader {
   public:
    template <bool isRequest, class Fields>
    explicit reader(boost::beast::http::header<isRequest, Fields>&, value_type& b) : body_(b) {}

    void init(const boost::optional<std::uint64_t>& length, boost::beast::error_code& ec) {
      if (length) {
        if (*length > body_.max_size() - kBodyPadding) {
          ec = boost::beast::http::error::buffer_overflow;
          return;
        }
        body_.reserve(static_cast<size_t>(*length) + kBodyPadding);
      }
      ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      auto extra = boost::asio::buffer_size(buffers);
      auto size = body_.size();
      if (extra > body_.max_size() - kBodyPadding - size) {
        ec = boost::beast::http::error::buffer_overflow;
        return 0;
      }
      body_.resize(size + extra);
      ec = {};
      char* dest = body_.data() + size;
      for (auto b : boost::beast::buffers_range_ref(buffers)) {
        std::memcpy(dest, b.data(), b.size());
        dest += b.size();
      }
      return extra;
    }

    void finish(boost::beast::error_code& ec) {
      if (body_.capacity() - body_.size() < kBodyPadding)
        body_.reserve(body_.size() + kBodyPadding);
      ec = {};
    }

   private:
    value_type& body_;
  };

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    explicit writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& b)
        : body_(b) {}

    void init(boost::beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      return {{const_buffers_type{body_.data(), body_.size()}, false}};
    }

   private:
    const value_type& body_;
  };
};

}  // namespace shoal::http
