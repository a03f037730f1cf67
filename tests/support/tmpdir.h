#pragma once
// A scoped temporary directory under $TMPDIR, removed with everything in it on destruction.

#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace shoal::test {

class tmpdir {
 public:
  tmpdir() {
    auto base = std::filesystem::temp_directory_path() / "shoal-test-XXXXXX";
    std::string tmpl = base.string();
    char* p = ::mkdtemp(tmpl.data());
    if (!p) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~tmpdir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  tmpdir(const tmpdir&) = delete;
  tmpdir& operator=(const tmpdir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace shoal::test
