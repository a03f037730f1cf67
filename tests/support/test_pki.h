#pragma once
// A throwaway PKI for TLS tests, made with the openssl command line in a temporary directory: a
// CA, a server certificate it signs for 127.0.0.1 and localhost, and an unrelated second CA (a
// client trusting only that one must refuse the server).

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "tests/support/tmpdir.h"

namespace shoal::test {

class test_pki {
 public:
  test_pki() {
    auto run = [this](const std::string& cmd) {
      auto full = fmt::format("cd '{}' && {} >/dev/null 2>&1", dir_.path().string(), cmd);
      if (std::system(full.c_str()) != 0) throw std::runtime_error("openssl failed: " + cmd);
    };
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    run("openssl req -x509 " + ec + " -keyout ca.key -out ca.pem -days 2 -subj /CN=shoal-test-ca");
    run("openssl req -x509 " + ec +
        " -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=someone-else");
    run("openssl req " + ec + " -keyout server.key -out server.csr -subj /CN=localhost");
    std::ofstream(dir_ / "san.cnf") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    run("openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
        "-out server.pem -days 2 -extfile san.cnf");
  }

  std::string ca() const { return (dir_ / "ca.pem").string(); }
  std::string other_ca() const { return (dir_ / "other-ca.pem").string(); }
  std::string cert() const { return (dir_ / "server.pem").string(); }
  std::string key() const { return (dir_ / "server.key").string(); }
  std::filesystem::path dir() const { return dir_.path(); }

 private:
  tmpdir dir_;
};

}  // namespace shoal::test
