#pragma once
// TLS contexts made from PEM files (OpenSSL through asio::ssl). Made once at startup, before the
// reactors run (reading the files blocks), then shared read-only by every core: OpenSSL lets many
// threads create connections from one SSL_CTX at once.
//
// Server: certificate chain + private key; TLS 1.2 or newer with OpenSSL's default cipher
// suites; no client certificates asked for (clients authenticate with API keys, net/auth).
// Client: verifies the server's chain against `ca_file` (or the system's trust store when empty)
// and that the certificate names the host dialled (DNS name or IP address).

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>

namespace shoal::tls {

using context_ptr = std::shared_ptr<boost::asio::ssl::context>;

/// A context, or a message naming the file and OpenSSL's reason.
template <typename T>
using made = boost::system::result<T, std::string>;

struct server_files {
  std::string cert_file;  // PEM: the certificate, then its intermediates
  std::string key_file;   // PEM: the private key (not encrypted)
};

made<context_ptr> make_server_context(const server_files& f);

/// `ca_file` empty: the system's default trust store.
made<context_ptr> make_client_context(const std::string& ca_file);

}  // namespace shoal::tls
