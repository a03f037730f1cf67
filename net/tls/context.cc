#include "net/tls/context.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace shoal::tls {
namespace ssl = boost::asio::ssl;

namespace {

// The reason OpenSSL gives for the last failure, or asio's message.
std::string reason(const boost::system::error_code& ec) {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return ec.message();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

context_ptr base_context(ssl::context::method m) {
  auto ctx = std::make_shared<ssl::context>(m);
  // TLS 1.2 at least; no compression, no renegotiation (OpenSSL 3 defaults cover the ciphers).
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx->native_handle(), SSL_OP_NO_RENEGOTIATION);
  return ctx;
}

}  // namespace

made<context_ptr> make_server_context(const server_files& f) {
  if (f.cert_file.empty() || f.key_file.empty()) {
    return std::string("TLS needs both a certificate (tls.cert) and a private key (tls.key)");
  }
  auto ctx = base_context(ssl::context::tls_server);
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(f.cert_file, ec);
  if (ec) return fmt::format("cannot load the TLS certificate {}: {}", f.cert_file, reason(ec));
  ctx->use_private_key_file(f.key_file, ssl::context::pem, ec);
  if (ec) return fmt::format("cannot load the TLS private key {}: {}", f.key_file, reason(ec));
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    ERR_clear_error();
    return fmt::format("the TLS private key {} does not match the certificate {}", f.key_file,
                       f.cert_file);
  }
  // Sessions resumed by ticket: a client reconnecting skips the full handshake.
  SSL_CTX_set_session_cache_mode(ctx->native_handle(), SSL_SESS_CACHE_SERVER);
  return ctx;
}

made<context_ptr> make_client_context(const std::string& ca_file) {
  auto ctx = base_context(ssl::context::tls_client);
  boost::system::error_code ec;
  if (ca_file.empty()) {
    ctx->set_default_verify_paths(ec);
    if (ec) return fmt::format("cannot load the system's TLS trust store: {}", reason(ec));
  } else {
    ctx->load_verify_file(ca_file, ec);
    if (ec) return fmt::format("cannot load the TLS CA file {}: {}", ca_file, reason(ec));
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

}  // namespace shoal::tls
