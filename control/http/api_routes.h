// The routes of the HTTP API (docs/formats.md "HTTP API", docs/openapi.yaml): one table the
// server registers and the OpenAPI test checks against, and the HTTP status of each response code.
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace faultline {

struct ApiRoute {
  std::string_view method;   // "GET" or "POST"
  std::string_view path;     // exact, no parameters
  std::string_view command;  // the control request it makes ("" = the body names it, or none)
};

inline constexpr std::string_view kRequestPath = "/v1/request";
inline constexpr std::string_view kTimePath = "/v1/time";
inline constexpr std::string_view kMetricsPath = "/metrics";

// Every route the server registers. /v1/request takes a whole request object; the named routes
// take the request object without "command" (POST body) or nothing (GET); /v1/time answers the
// box's wall clock; /metrics the Prometheus text of `stats --prometheus`.
inline constexpr std::array<ApiRoute, 12> kApiRoutes = {{
    {"POST", kRequestPath, ""},
    {"GET", "/v1/ping", "ping"},
    {"GET", "/v1/show", "show"},
    {"GET", "/v1/stats", "stats"},
    {"POST", "/v1/stats/reset", "stats"},
    {"POST", "/v1/apply", "apply"},
    {"POST", "/v1/heal", "heal"},
    {"POST", "/v1/trace/start", "trace-start"},
    {"POST", "/v1/trace/stop", "trace-stop"},
    {"GET", "/v1/trace/status", "trace-status"},
    {"GET", kTimePath, ""},
    {"GET", kMetricsPath, ""},
}};

// The route at `path`, or nullptr.
const ApiRoute* FindApiRoute(std::string_view path);

// The HTTP status of a control response: 200 when "ok" is true, else by its "code" (400
// bad-request, invalid-profile, invalid-trace; 401 unauthorized; 409 busy; 413 too-large; 422
// unsupported; 500 failed; ...).
int ApiStatus(const nlohmann::json& response);

}  // namespace faultline
