// `faultline run` as a process with its HTTP API (--api, --metrics) on net_null ports, for the
// tests of control/http: a temporary directory, files in it, and the URLs the run prints.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "control/base/unique_fd.h"
#include "control/server/control_server.h"
#include "control/testbed/subprocess.h"
#include "tests/faultline_binary.h"

namespace faultline::testing {

// A directory of this test process's own, removed at exit of the object.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    const char* base = std::getenv("TMPDIR");
    path_ =
        std::string(base ? base : "/tmp") + "/faultline-" + name + "-" + std::to_string(getpid());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  // Writes `text` to NAME in the directory with `mode`; returns its path.
  std::string Write(const std::string& name, const std::string& text, mode_t mode = 0644) const {
    const std::string file = path_ + "/" + name;
    std::ofstream(file) << text;
    chmod(file.c_str(), mode);
    return file;
  }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The EAL arguments of a run on two net_null ports with a file prefix of its own.
inline std::vector<std::string> NullPortsEal(const std::string& prefix) {
  return {"--no-huge",
          "--no-pci",
          "-m",
          "512",
          "-l",
          "0",
          "--file-prefix",
          prefix + std::to_string(getpid()),
          "--vdev=net_null0",
          "--vdev=net_null1"};
}

// Starts `faultline run OPTIONS -- EAL` and waits until it forwards; false (with the output as a
// test failure) if it does not.
inline bool StartRun(Subprocess& run, const std::vector<std::string>& options,
                     const std::vector<std::string>& eal) {
  std::vector<std::string> argv = {FaultlineBinary(), "run",   "--idle-sleep",    "50us",
                                   "--hold",          "20000", "--apply-timeout", kApplyTimeout};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back("--");
  argv.insert(argv.end(), eal.begin(), eal.end());
  std::string error;
  if (!run.Start(argv, &error)) {
    ADD_FAILURE() << error;
    return false;
  }
  if (!run.WaitForOutput("faultline: forwarding", std::chrono::seconds(30))) {
    ADD_FAILURE() << "the run did not start: " << run.output();
    return false;
  }
  return true;
}

// The URL the run printed after "faultline: WHAT " (WHAT: "HTTP API" or "metrics").
inline std::string PrintedUrl(const Subprocess& run, const std::string& what) {
  const std::string marker = "faultline: " + what + " ";
  const size_t at = run.output().find(marker);
  if (at == std::string::npos) return "";
  const size_t begin = at + marker.size();
  return run.output().substr(begin, run.output().find('\n', begin) - begin);
}

// The control socket's response to `request`; an empty object (and a test failure) if none.
inline nlohmann::json OverSocket(const std::string& socket, const nlohmann::json& request) {
  std::string error;
  bool connected = false;
  auto response = ControlRequest(socket, request, std::chrono::seconds(10), &error, &connected);
  EXPECT_TRUE(response.has_value()) << error;
  return response.value_or(nlohmann::json::object());
}

// Ends a suite's run (SIGTERM; it must exit 0) and removes its directory.
inline void StopRun(Subprocess*& run, TempDir*& dir) {
  if (run) {
    EXPECT_EQ(run->Stop(SIGTERM, std::chrono::seconds(20)), 0) << run->output();
  }
  delete run;
  delete dir;
  run = nullptr;
  dir = nullptr;
}

// A TCP connection to 127.0.0.1:`port` (a test failure if it cannot connect), from `source` if
// given (another address of 127/8: Linux routes all of it to lo), else as the kernel picks.
inline UniqueFd ConnectLoopback(int port, const std::string& source = "") {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM, 0));
  if (!source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    EXPECT_EQ(inet_pton(AF_INET, source.c_str(), &local.sin_addr), 1) << source;
    EXPECT_EQ(bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local)), 0) << source;
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  return fd;
}

}  // namespace faultline::testing
