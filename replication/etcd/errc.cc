#include "replication/etcd/errc.h"

namespace shoal::etcd {

std::string_view error_message(errc e) {
  switch (e) {
    case errc::unavailable:
      return "etcd is unavailable (no endpoint answered)";
    case errc::timeout:
      return "etcd did not answer in time";
    case errc::bad_response:
      return "etcd sent an answer that does not parse";
    case errc::lease_not_found:
      return "the etcd lease expired or was revoked";
    case errc::compacted:
      return "the etcd revision asked for has been compacted";
    case errc::request_too_large:
      return "etcd refused the request as too large";
    case errc::rejected:
      return "etcd refused the request";
    case errc::canceled:
      return "the etcd watch was canceled";
    case errc::bad_config:
      return "an etcd endpoint is not of the form http://host:port";
  }
  return "unknown etcd error";
}

}  // namespace shoal::etcd
