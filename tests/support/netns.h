#pragma once
// A small network of Linux network namespaces for partition tests: one namespace per host, and a
// way to cut a host off from the others and from etcd while the test can still talk to it.
//
//   root namespace                             namespace shoal-<tag>-<i> (host i)
//   bridge shb<tag>, 10.213.N.254/24  <--veth-->  "data" 10.213.N.(10+i)/24  (peers, etcd)
//   shc<tag>-<i>, 10.214.N.(4i+1)/30  <--veth-->  "ctl"  10.214.N.(4i+2)/30  (the test's client)
//
// Hosts reach each other and etcd (in the root namespace, on the bridge's address) only over the
// data link; the test reaches each host over its own control link, which carries nothing else
// (a namespace has no default route, so nothing it sends to a peer or to etcd can take the
// control link, whether or not the root namespace forwards). isolate(i) takes host i's data link
// down at the bridge, as a pulled cable would: frames in either direction are dropped, and the
// control link keeps working, so the test can watch what an isolated host does with the writes it
// is sent.
//
// Needs root and iproute2's `ip` (no iptables or nft). Names and the subnet are unique per
// process (`tag` is the pid plus a letter per network), so parallel runs do not collide; the
// destructor removes everything (the kernel may finish a deleted namespace later, once its last
// socket is closed), and a network left by a process that died without cleaning up (SIGKILL by a
// ctest timeout) is removed by the next one that starts.

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include "tests/support/child_process.h"

namespace shoal::test {

class netns_network {
 public:
  /// Why this machine cannot run a netns_network (not root, no `ip`), or nullopt if it can.
  static std::optional<std::string> unavailable_reason() {
    if (::geteuid() != 0) return "network namespaces need root (ip netns add)";
    if (ip_binary().empty()) return "iproute2's ip is not installed";
    return std::nullopt;
  }

  /// Creates the bridge and `hosts` namespaces; throws std::runtime_error with `ip`'s output if
  /// the kernel refuses (no netns, veth or bridge support). `work_dir` receives the command logs.
  netns_network(std::filesystem::path work_dir, size_t hosts)
      : work_dir_(std::move(work_dir)), hosts_(hosts) {
    if (hosts_ == 0 || hosts_ > 60) throw std::invalid_argument("1 to 60 hosts");
    static int networks_in_this_process = 0;
    tag_ = std::to_string(::getpid()) + char('a' + networks_in_this_process++ % 26);
    std::filesystem::create_directories(work_dir_);
    remove_networks_of_dead_processes();
    subnet_ = pick_free_subnet();
    std::vector<std::string> root_side = {
        "link add " + bridge() + " type bridge",
        "address add " + etcd_address() + "/24 dev " + bridge(),
        "link set " + bridge() + " up",
    };
    for (size_t i = 0; i < hosts_; ++i) {
      for (std::string cmd : {
               "netns add " + name(i),
               "link add " + data_veth(i) + " type veth peer name data netns " + name(i),
               "link set " + data_veth(i) + " master " + bridge() + " up",
               "link add " + control_veth(i) + " type veth peer name ctl netns " + name(i),
               "address add " + control_root_address(i) + "/30 dev " + control_veth(i),
               "link set " + control_veth(i) + " up",
           }) {
        root_side.push_back(std::move(cmd));
      }
    }
    created_ = true;  // from here on the destructor removes whatever part exists
    try {
      ip_batch(root_side);
      for (size_t i = 0; i < hosts_; ++i) {
        ip_batch(
            {
                "link set lo up",
                "address add " + data_address(i) + "/24 dev data",
                "link set data up",
                "address add " + control_address(i) + "/30 dev ctl",
                "link set ctl up",
            },
            name(i));
      }
    } catch (...) {
      teardown();
      throw;
    }
  }

  ~netns_network() { teardown(); }
  netns_network(const netns_network&) = delete;
  netns_network& operator=(const netns_network&) = delete;

  size_t hosts() const { return hosts_; }
  std::string name(size_t i) const { return "shoal-" + tag_ + "-" + std::to_string(i); }
  /// Where peers and etcd reach host i (its --advertise address).
  std::string data_address(size_t i) const { return subnet(213) + std::to_string(10 + i); }
  /// Where the test reaches host i, also while it is isolated.
  std::string control_address(size_t i) const { return subnet(214) + std::to_string(4 * i + 2); }
  /// The bridge's address in the root namespace, for etcd: every host reaches it over its data
  /// link.
  std::string etcd_address() const { return subnet(213) + "254"; }

  /// A command prefix that runs a program inside host i's namespace (`ip netns exec` execs it,
  /// so the child's pid is the program's own and signals reach it).
  std::vector<std::string> exec_prefix(size_t i) const {
    return {ip_binary().string(), "netns", "exec", name(i)};
  }

  /// Cuts host i's data link: it can no longer reach etcd or the other hosts, nor they it.
  void isolate(size_t i) { ip_batch({"link set " + data_veth(i) + " down"}); }
  void heal(size_t i) { ip_batch({"link set " + data_veth(i) + " up"}); }

 private:
  static std::filesystem::path ip_binary() {
    if (auto p = find_on_path("ip"); !p.empty()) return p;
    // root's PATH usually has sbin, but ctest may run with a shorter one
    for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
      if (::access(p, X_OK) == 0) return p;
    }
    return {};
  }

  std::string bridge() const { return "shb" + tag_; }
  std::string data_veth(size_t i) const { return "shd" + tag_ + "-" + std::to_string(i); }
  std::string control_veth(size_t i) const { return "shc" + tag_ + "-" + std::to_string(i); }
  std::string control_root_address(size_t i) const {
    return subnet(214) + std::to_string(4 * i + 1);
  }
  std::string subnet(int second_octet) const {
    return "10." + std::to_string(second_octet) + "." + std::to_string(subnet_) + ".";
  }

  /// Runs `ip -batch` over `commands` (one process for all of them, which keeps setup fast), in
  /// namespace `netns` if given (a batch line cannot name one). `force` carries on past a failing
  /// command (teardown) and does not throw; otherwise a failure throws with ip's output.
  void ip_batch(const std::vector<std::string>& commands, const std::string& netns = {},
                bool force = false) {
    auto script = work_dir_ / ("ip-" + std::to_string(++batches_) + ".batch");
    {
      std::ofstream out(script);
      for (auto& c : commands) out << c << "\n";
    }
    std::vector<std::string> args;
    if (!netns.empty()) args.insert(args.end(), {"-n", netns});
    if (force) args.push_back("-force");
    args.insert(args.end(), {"-batch", script.string()});
    auto [code, output] = run_to_completion(ip_binary(), args, script.string() + ".log");
    if (code != 0 && !force) {
      throw std::runtime_error("ip " + (netns.empty() ? "" : "-n " + netns + " ") + "-batch " +
                               script.string() + " failed (exit " + std::to_string(code) + "):\n" +
                               output);
    }
  }

  std::string ip_output(const std::vector<std::string>& args) {
    auto log = work_dir_ / ("ip-" + std::to_string(++batches_) + ".out");
    return run_to_completion(ip_binary(), args, log).second;
  }

  /// A third octet N with no 10.213.N.x or 10.214.N.x address or route in the root namespace
  /// (another run's network, or the machine's own), starting from one the pid picks.
  int pick_free_subnet() {
    const std::string in_use = ip_output({"-o", "-4", "address", "show"}) +
                               ip_output({"-4", "route", "show", "table", "all"});
    const int first = static_cast<int>(::getpid() % 250);
    for (int k = 0; k < 250; ++k) {
      const int n = 1 + (first + k) % 250;
      const std::string a = "10.213." + std::to_string(n) + ".",
                        b = "10.214." + std::to_string(n) + ".";
      if (in_use.find(a) == std::string::npos && in_use.find(b) == std::string::npos) return n;
    }
    throw std::runtime_error("no free 10.213.N.0/24 subnet for a test network");
  }

  /// What a process that died without cleaning up (SIGKILLed by a ctest timeout) left: its
  /// namespaces shoal-<pid><letter>-<i>, its bridge and its veths shb/shc/shd<pid><letter>.
  void remove_networks_of_dead_processes() {
    auto dead = [](const std::string& pid) {
      return ::kill(static_cast<pid_t>(std::stol(pid)), 0) != 0 && errno == ESRCH;
    };
    std::vector<std::string> commands;
    std::smatch m;
    std::istringstream namespaces(ip_output({"netns", "list"}));
    const std::regex stale_namespace(R"(^(shoal-(\d+)[a-z]-\d+))");
    for (std::string line; std::getline(namespaces, line);) {
      if (std::regex_search(line, m, stale_namespace) && dead(m[2].str())) {
        commands.push_back("netns delete " + m[1].str());
      }
    }
    std::istringstream links(ip_output({"-o", "link", "show"}));
    const std::regex stale_link(R"(^\d+: (sh[bcd](\d+)[a-z](-\d+)?)[@:])");
    for (std::string line; std::getline(links, line);) {
      if (std::regex_search(line, m, stale_link) && dead(m[2].str())) {
        commands.push_back("link delete " + m[1].str());
      }
    }
    if (!commands.empty()) ip_batch(commands, {}, /*force=*/true);
  }

  void teardown() {
    if (!created_) return;
    created_ = false;
    // The veths go first, by their root ends: a deleted namespace lives on (with its veths)
    // until the kernel has closed every socket in it, which for a TCP connection to a peer that
    // stopped answering can take minutes.
    std::vector<std::string> commands;
    for (size_t i = 0; i < hosts_; ++i) {
      commands.push_back("link delete " + data_veth(i));
      commands.push_back("link delete " + control_veth(i));
      commands.push_back("netns delete " + name(i));
    }
    commands.push_back("link delete " + bridge());
    try {
      ip_batch(commands, {}, /*force=*/true);
    } catch (...) {
      // a destructor must not throw (fork can fail); what is left is removed by the next run
    }
  }

  std::filesystem::path work_dir_;
  size_t hosts_;
  std::string tag_;
  int subnet_ = 0;
  int batches_ = 0;
  bool created_ = false;
};

}  // namespace shoal::test
