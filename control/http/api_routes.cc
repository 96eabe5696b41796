#include "control/http/api_routes.h"

#include <utility>

namespace faultline {

const ApiRoute* FindApiRoute(std::string_view path) {
  for (const ApiRoute& route : kApiRoutes) {
    if (route.path == path) return &route;
  }
  return nullptr;
}

int ApiStatus(const nlohmann::json& response) {
  if (response.value("ok", false)) return 200;
  static constexpr std::pair<std::string_view, int> kStatuses[] = {
      {"bad-request", 400},
      {"invalid-profile", 400},
      {"invalid-trace", 400},
      {"unauthorized", 401},
      {"not-found", 404},
      {"method-not-allowed", 405},
      {"busy", 409},
      {"length-required", 411},
      {"too-large", 413},
      {"unsupported", 422},
      {"failed", 500},
      {"too-many-connections", 503},
      {"too-many-per-client", 429},  // written raw by the accept thread (client_cap.h)
  };
  const std::string code = response.value("code", "failed");
  for (const auto& [name, status] : kStatuses) {
    if (name == code) return status;
  }
  return 500;
}

}  // namespace faultline
