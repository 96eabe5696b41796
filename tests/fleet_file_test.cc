// The fleet file (control/fleet/fleet_file.h): what it accepts and the file:line:col errors.
#include "control/fleet/fleet_file.h"

#include <gtest/gtest.h>

namespace faultline {
namespace {

std::string ErrorOf(const std::string& text) {
  std::string error;
  EXPECT_FALSE(ParseFleetText(text, "f.yaml", "/etc/fl", &error)) << text;
  return error;
}

TEST(FleetFile, ReadsBoxesInFileOrder) {
  std::string error;
  const auto fleet = ParseFleetText(
      "version: 1\n"
      "boxes:\n"
      "  west: {api: https://10.0.0.2:8443, ca-file: /etc/ca.pem, carries: rack-c}\n"
      "  east:\n"
      "    api: http://127.0.0.1:8080\n"
      "    token-file: east.token\n"
      "    ca-file: ca.pem\n"
      "    carries: [rack-a, rack-b]\n",
      "f.yaml", "/etc/fl", &error);
  ASSERT_TRUE(fleet) << error;
  ASSERT_EQ(fleet->boxes.size(), 2u);
  EXPECT_EQ(fleet->boxes[0].name, "west");
  EXPECT_EQ(fleet->boxes[0].api, "https://10.0.0.2:8443");
  EXPECT_EQ(fleet->boxes[0].carries, std::vector<std::string>{"rack-c"});
  EXPECT_EQ(fleet->boxes[0].token_file, "");
  EXPECT_EQ(fleet->boxes[1].name, "east");
  EXPECT_EQ(fleet->boxes[1].token_file, "/etc/fl/east.token");
  EXPECT_EQ(fleet->boxes[1].ca_file, "/etc/fl/ca.pem");
  EXPECT_EQ(fleet->boxes[0].ca_file, "/etc/ca.pem");
  EXPECT_EQ(fleet->boxes[1].carries, (std::vector<std::string>{"rack-a", "rack-b"}));
  EXPECT_EQ(fleet->boxes[1].line, 4);
}

TEST(FleetFile, ErrorsNameTheLineAndColumn) {
  EXPECT_EQ(ErrorOf("version: 1\n"),
            "f.yaml:1:1: the fleet file needs 'boxes' (a map of named boxes)");
  EXPECT_EQ(ErrorOf("version: 2\nboxes: {a: {api: http://h:1}}\n").substr(0, 11), "f.yaml:1:10");
  EXPECT_EQ(ErrorOf("version: 1\nboxes:\n  a: {api: ftp://h:1}\n"),
            "f.yaml:3:12: api: 'ftp://h:1' is not http://HOST:PORT or https://HOST:PORT (the "
            "address of a `faultline run --api`)");
  EXPECT_EQ(ErrorOf("version: 1\nboxes:\n  a: {api: http://h:70000}\n").substr(0, 12),
            "f.yaml:3:12:");
  EXPECT_EQ(ErrorOf("version: 1\nboxes:\n  a: {carries: [x]}\n"),
            "f.yaml:3:3: box 'a' needs 'api' (http://HOST:PORT or https://HOST:PORT)");
  EXPECT_EQ(ErrorOf("version: 1\nboxes:\n  a: {api: http://h:1}\n  b: {api: http://h:1}\n"),
            "f.yaml:4:12: api: http://h:1 is already box 'a'");
  EXPECT_EQ(ErrorOf("version: 1\nboxes:\n  a: {api: http://h:1, carries: [x, x]}\n"),
            "f.yaml:3:37: carries: group 'x' is listed twice");
  EXPECT_EQ(ErrorOf("version: 1\nboxes:\n  a: {api: http://h:1, port: 3}\n").substr(0, 42),
            "f.yaml:3:24: unknown key 'port' in box 'a'");
  EXPECT_EQ(ErrorOf("version: 1\nboxes: {}\n"), "f.yaml:2:8: boxes: needs at least one box");
  EXPECT_NE(ErrorOf("version: 1\nboxes:\n  a: {api: http://h:1\n").find("f.yaml:"),
            std::string::npos);
}

TEST(FleetFile, UnreadableFileNamesIt) {
  std::string error;
  EXPECT_FALSE(ParseFleetFile("/nonexistent/fleet.yaml", &error));
  EXPECT_EQ(error.rfind("/nonexistent/fleet.yaml: ", 0), 0u) << error;
}

}  // namespace
}  // namespace faultline
