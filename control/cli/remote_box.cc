#include "control/cli/remote_box.h"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "control/http/api_client.h"
#include "control/http/api_token.h"
#include "control/server/control_client.h"

namespace faultline {

namespace {

struct RemoteBox {
  std::string box, token_file, ca_file;
};

RemoteBox& Options() {
  static RemoteBox options;
  return options;
}

// The option if given, else the environment variable, else "".
std::string OrEnvironment(const std::string& option, const char* variable) {
  if (!option.empty()) return option;
  const char* value = std::getenv(variable);
  return value ? value : "";
}

}  // namespace

void AddRemoteBoxOptions(CLI::App* app) {
  RemoteBox& options = Options();
  app->add_option("--box", options.box,
                  "Drive a remote box's HTTP API (faultline run --api) instead of the local "
                  "control socket, e.g. --box https://10.0.0.5:8443 (or FAULTLINE_BOX)");
  app->add_option("--token-file", options.token_file,
                  "With --box: the API token's file (or FAULTLINE_TOKEN_FILE)");
  app->add_option("--ca-file", options.ca_file,
                  "With an https --box: the CA certificate (PEM) that signed the box's (or "
                  "FAULTLINE_CA_FILE)");
}

std::optional<std::string> ControlTarget(const std::string& control, const char* command) {
  const RemoteBox& given = Options();
  ApiClientOptions options;
  options.box = OrEnvironment(given.box, "FAULTLINE_BOX");
  if (options.box.empty()) return control;
  std::string error;
  const std::string token_file = OrEnvironment(given.token_file, "FAULTLINE_TOKEN_FILE");
  if (!token_file.empty()) {
    const std::optional<std::string> token = ReadTokenFile(token_file, false, &error);
    if (!token) {
      std::fprintf(stderr, "faultline %s: %s\n", command, error.c_str());
      return std::nullopt;
    }
    options.token = *token;
  }
  options.ca_file = OrEnvironment(given.ca_file, "FAULTLINE_CA_FILE");
  std::shared_ptr<ApiClient> client = ApiClient::Create(options, &error);
  if (!client) {
    std::fprintf(stderr, "faultline %s: %s\n", command, error.c_str());
    return std::nullopt;
  }
  SetControlTransport([client](const std::string&, const nlohmann::json& request,
                               std::chrono::milliseconds, std::string* error, bool* connected) {
    return client->Request(request, error, connected);
  });
  return client->box();
}

}  // namespace faultline
