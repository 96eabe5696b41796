#include "control/control_client.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "control/control_server.h"
#include "control/profile_parser.h"

namespace faultline {

namespace {

// Long enough for the daemon to parse, compile and wait its second for the workers.
constexpr std::chrono::seconds kResponseTimeout{10};

// Sends the request and reports the result as `command` on stdout or stderr; returns the exit
// status.
int Send(const char* command, const nlohmann::json& request, const std::string& socket_path,
         const std::string& done) {
  std::string error;
  bool connected = false;
  const auto response = ControlRequest(socket_path, request, kResponseTimeout, &error, &connected);
  if (!response) {
    std::fprintf(stderr, "faultline %s: %s\n", command, error.c_str());
    return 1;
  }
  if (!response->value("ok", false)) {
    const std::string code = response->value("code", "failed");
    std::fprintf(stderr, "faultline %s: %s\n", command, response->value("error", "").c_str());
    return code == "failed" || code == "busy" ? 1 : 2;
  }
  std::printf(
      "faultline %s: %s on %s; now %d group(s), %d rule(s), %d partition(s), impairments %s\n",
      command, done.c_str(), socket_path.c_str(), response->value("groups", 0),
      response->value("rules", 0), response->value("partitions", 0),
      response->value("impairments", "").c_str());
  return 0;
}

}  // namespace

int RunHeal(const std::string& what, const std::string& socket_path) {
  return Send("heal", {{"command", "heal"}, {"what", what}}, socket_path, what + " healed");
}

int RunApply(const std::string& file, const std::string& socket_path) {
  std::string error;
  if (!ParseProfileFile(file, &error)) {
    std::fprintf(stderr, "faultline apply: %s\n", error.c_str());
    return 2;
  }
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  // Relative `table:` paths resolve against the file's directory, wherever the daemon runs.
  const std::filesystem::path parent = std::filesystem::path(file).parent_path();
  const std::filesystem::path directory =
      parent.empty() ? std::filesystem::current_path() : std::filesystem::absolute(parent);
  const nlohmann::json request = {{"command", "apply"},
                                  {"profile", text.str()},
                                  {"name", file},
                                  {"directory", directory.string()}};
  return Send("apply", request, socket_path, file + " applied");
}

}  // namespace faultline
