// A real Prometheus (Debian's `prometheus`, started here on a free port with a temporary data
// directory) scrapes `faultline run --metrics` every second; its query API returns the
// forwarded-frame counter, no larger than the statistics document's read after it, and
// `promtool check metrics` accepts the text. Both processes are ended by PID.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "control/base/unique_fd.h"
#include "control/http/api_client.h"
#include "control/server/control_server.h"
#include "tests/api_run.h"

namespace faultline {
namespace {

using testing::NullPortsEal;
using testing::PrintedUrl;
using testing::StartRun;
using testing::TempDir;

// A TCP port nobody listens on now (the kernel's choice of a free one).
int FreePort() {
  UniqueFd fd(socket(AF_INET, SOCK_STREAM, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return -1;
  }
  return ntohs(address.sin_port);
}

std::unique_ptr<ApiClient> ClientOf(const std::string& url) {
  ApiClientOptions options;
  options.box = url;
  std::string error;
  auto client = ApiClient::Create(options, &error);
  EXPECT_NE(client, nullptr) << error;
  return client;
}

TEST(PrometheusScrapeTest, PrometheusScrapesTheForwardedFrameCounter) {
  TempDir dir("prometheus");
  const std::string socket = dir.Path("control.sock");
  Subprocess run;
  ASSERT_TRUE(
      StartRun(run, {"--control", socket, "--metrics", "127.0.0.1:0"}, NullPortsEal("prometheus")));
  const std::string metrics_url = PrintedUrl(run, "metrics");
  ASSERT_TRUE(metrics_url.starts_with("http://127.0.0.1:")) << run.output();

  // promtool accepts the exposition text.
  int status = 0;
  std::string error;
  const auto text = ClientOf(metrics_url)->Call("GET", "/metrics", "", &status, &error);
  ASSERT_TRUE(text) << error;
  ASSERT_EQ(status, 200);
  const std::string text_file = dir.Write("metrics.txt", *text);
  Subprocess promtool;
  ASSERT_TRUE(promtool.Start({"sh", "-c", "promtool check metrics < " + text_file}, &error));
  // Exit 0: clean; 1: not parseable; 3: parsed, with lint remarks. The only remark allowed is
  // promtool's naming advice on the delay and lateness metrics, named in nanoseconds since
  // before this endpoint (docs/formats.md); any other remark fails.
  const int checked = promtool.Wait(std::chrono::seconds(60));
  EXPECT_TRUE(checked == 0 || checked == 3) << checked << ": " << promtool.output();
  std::istringstream remarks(promtool.output());
  for (std::string remark; std::getline(remarks, remark);) {
    if (remark.empty()) continue;
    EXPECT_NE(remark.find("_ns metric names should not contain abbreviated units"),
              std::string::npos)
        << remark;
  }

  const int port = FreePort();
  ASSERT_GT(port, 0);
  const std::string config =
      dir.Write("prometheus.yml",
                "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                "scrape_configs:\n"
                "  - job_name: faultline\n"
                "    static_configs: [{targets: ['" +
                    metrics_url.substr(std::string("http://").size()) + "']}]\n");
  Subprocess prometheus;
  ASSERT_TRUE(prometheus.Start(
      {"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir.Path("data"),
       "--web.listen-address=127.0.0.1:" + std::to_string(port)},
      &error))
      << error;
  // Until the query API has a sample (bounded: 30 s, which only a stalled machine reaches).
  const std::string query =
      "/api/v1/query?query=faultline_port_tx_frames_total%7Bport%3D%221%22%7D";
  auto prometheus_api = ClientOf("http://127.0.0.1:" + std::to_string(port));
  nlohmann::json result;
  for (int attempt = 0; attempt < 150; ++attempt) {
    const auto body = prometheus_api->Call("GET", query, "", &status, &error);
    if (body && status == 200) {
      const nlohmann::json answer = nlohmann::json::parse(*body, nullptr, false);
      if (answer.is_object() && !answer["data"]["result"].empty()) {
        result = answer["data"]["result"][0];
        break;
      }
    }
    usleep(200'000);
  }
  ASSERT_TRUE(result.is_object()) << "Prometheus never returned the counter\n"
                                  << prometheus.output();
  const uint64_t scraped = std::stoull(result["value"][1].get<std::string>());
  bool connected = false;
  const auto stats =
      ControlRequest(socket, {{"command", "stats"}}, std::chrono::seconds(10), &error, &connected);
  ASSERT_TRUE(stats) << error;
  const uint64_t now = (*stats)["stats"]["ports"][1]["tx"];
  EXPECT_GT(scraped, 0u);
  EXPECT_LE(scraped, now);
  EXPECT_EQ(result["metric"]["job"], "faultline");
  prometheus.Stop(SIGTERM, std::chrono::seconds(20));
  EXPECT_EQ(run.Stop(SIGTERM, std::chrono::seconds(20)), 0) << run.output();
}

}  // namespace
}  // namespace faultline
