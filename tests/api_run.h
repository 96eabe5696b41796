// `faultline run` as a process with its HTTP API (--api, --metrics) on net_null ports, for the
// tests of control/http: a temporary directory, files in it, and the URLs the run prints.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

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
  std::vector<std::string> argv = {FaultlineBinary(), "run",  "--idle-sleep", "50us",
                                   "--hold",          "20000"};
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

}  // namespace faultline::testing
