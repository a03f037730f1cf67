#pragma once
// Starts a program (shoald) as a child process for black-box tests, with its stdout and stderr
// in a log file the test can wait on. The destructor kills what is still running.

#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace shoal::test {

/// The build's bin/ directory (ctest sets SHOAL_BINARY_DIR).
inline std::filesystem::path binary_dir() {
  const char* d = std::getenv("SHOAL_BINARY_DIR");
  return d ? std::filesystem::path(d) / "bin" : std::filesystem::path("bin");
}
inline std::filesystem::path source_dir() {
  const char* d = std::getenv("SHOAL_SOURCE_DIR");
  return d ? std::filesystem::path(d) : std::filesystem::current_path();
}

/// An executable named `name` on $PATH, or empty.
inline std::filesystem::path find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    auto candidate = std::filesystem::path(dirs.substr(start, end - start)) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

class child_process {
 public:
  child_process(const std::filesystem::path& exe, const std::vector<std::string>& args,
                const std::filesystem::path& log_file,
                const std::filesystem::path& cwd = std::filesystem::current_path())
      : log_file_(log_file) {
    // Everything the child needs is prepared before fork: between fork and exec it may only make
    // async-signal-safe calls (no allocation; other threads may hold the malloc lock).
    std::string exe_s = exe.string();
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    argv.push_back(exe_s.data());
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string log_s = log_file.string(), cwd_s = cwd.string();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      int fd = ::open(log_s.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      if (::chdir(cwd_s.c_str()) != 0) ::_exit(126);
      ::execv(exe_s.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~child_process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait_exit(std::chrono::seconds(5));
    }
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return !exit_status_.has_value(); }
  void signal(int sig) { ::kill(pid_, sig); }

  std::string log() const {
    std::ifstream in(log_file_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  /// Waits until the log matches `pattern`; returns the first capture group (or the match).
  std::optional<std::string> wait_for_log(const std::string& pattern,
                                          std::chrono::milliseconds timeout) {
    std::regex re(pattern);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto text = log();
      std::smatch m;
      if (std::regex_search(text, m, re)) return m.size() > 1 ? m[1].str() : m[0].str();
      if (!running() || poll_exit()) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

  /// Exit code (or 128 + signal) once it exits within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (poll_exit()) break;
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return exit_status_;
  }

 private:
  bool poll_exit() {
    if (exit_status_) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return true;
    }
    return false;
  }

  pid_t pid_ = -1;
  std::filesystem::path log_file_;
  std::optional<int> exit_status_;
};

/// Runs a command to completion; returns its exit code and output.
inline std::pair<int, std::string> run_to_completion(const std::filesystem::path& exe,
                                                     const std::vector<std::string>& args,
                                                     const std::filesystem::path& log_file) {
  child_process p(exe, args, log_file);
  auto code = p.wait_exit(std::chrono::seconds(30));
  return {code.value_or(-1), p.log()};
}

}  // namespace shoal::test
