// The one translation unit that compiles Asio's SSL layer (BOOST_ASIO_SEPARATE_COMPILATION is on
// for every target, engine/CMakeLists.txt), so that only users of TLS link OpenSSL.
#include <boost/asio/ssl/impl/src.hpp>
