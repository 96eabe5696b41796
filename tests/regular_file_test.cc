// Reading configuration files (dataplane/regular_file): only regular files, never blocking, never
// more than the limit; and every reader of configuration (profiles, traces, topologies, .dist
// tables) goes through it.
#include "dataplane/config/regular_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "control/profile/profile_parser.h"
#include "control/trace/topology.h"
#include "control/trace/trace_parser.h"
#include "dataplane/models/delay_distribution.h"

namespace faultline {
namespace {

class RegularFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("faultline-regular-file-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
    fifo_ = (dir_ / "fifo").string();
    ASSERT_EQ(mkfifo(fifo_.c_str(), 0600), 0);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::filesystem::path dir_;
  std::string fifo_;  // nobody ever writes to it: opening it for reading would block
};

TEST_F(RegularFileTest, ReadsARegularFileWhole) {
  std::string error;
  const std::string text = "line 1\nline 2\n" + std::string(100'000, 'x');
  EXPECT_EQ(ReadRegularFile(Write("f", text), &error), text);
  EXPECT_EQ(ReadRegularFile(Write("empty", ""), &error), "");
}

TEST_F(RegularFileTest, RefusesWhatIsNotARegularFileWithoutBlocking) {
  std::string error;
  EXPECT_FALSE(ReadRegularFile(fifo_, &error));
  EXPECT_EQ(error, fifo_ + ": cannot read: it is a FIFO, not a regular file");
  EXPECT_FALSE(ReadRegularFile("/dev/zero", &error));
  EXPECT_EQ(error, "/dev/zero: cannot read: it is a character device, not a regular file");
  EXPECT_FALSE(ReadRegularFile(dir_.string(), &error));
  EXPECT_EQ(error, dir_.string() + ": cannot read: it is a directory");
  const std::string missing = (dir_ / "missing").string();
  EXPECT_FALSE(ReadRegularFile(missing, &error));
  EXPECT_EQ(error, missing + ": cannot read: No such file or directory");
}

TEST_F(RegularFileTest, SizeLimitJustUnderAndOver) {
  std::string error;
  EXPECT_EQ(ReadRegularFile(Write("ten", "0123456789"), &error, 10), "0123456789");
  EXPECT_FALSE(ReadRegularFile(Write("eleven", "0123456789a"), &error, 10));
  EXPECT_EQ(error, (dir_ / "eleven").string() +
                       ": cannot read: it is larger than 10 bytes, the most faultline reads");
  // The default: 16 MiB.
  EXPECT_EQ(kMaxConfigFileBytes, size_t{16} << 20);
  EXPECT_TRUE(ReadRegularFile(Write("at-limit", std::string(kMaxConfigFileBytes, '#')), &error));
  EXPECT_FALSE(ReadRegularFile(Write("over", std::string(kMaxConfigFileBytes + 1, '#')), &error));
  EXPECT_NE(error.find("larger than 16777216 bytes"), std::string::npos) << error;
}

// A FIFO or /dev/zero named anywhere a file is read is an error, not a hang or gigabytes read.
TEST_F(RegularFileTest, EveryConfigurationReaderRefusesThem) {
  std::string error;
  for (const std::string& path : {fifo_, std::string("/dev/zero")}) {
    EXPECT_FALSE(ParseProfileFile(path, &error));
    EXPECT_EQ(error.find(path + ": cannot read: it is a "), 0u) << error;
    EXPECT_FALSE(ParseTraceFile(path, nullptr, &error));
    EXPECT_EQ(error.find(path + ": cannot read: it is a "), 0u) << error;
    EXPECT_FALSE(ParseTopologyFile(path, &error));
    EXPECT_EQ(error.find(path + ": cannot read: it is a "), 0u) << error;
    EXPECT_FALSE(LoadDistributionTable(path, &error));
    EXPECT_EQ(error.find(path + ": cannot read: it is a "), 0u) << error;

    // Named inside a profile (as a live `apply` sends it: the daemon reads the table) and a trace.
    const std::string profile =
        "version: 1\nimpairments:\n  x: {delay: {base: 1ms, jitter: 1ms, table: " + path + "}}\n";
    EXPECT_FALSE(ParseProfileText(profile, "p.yaml", &error));
    EXPECT_EQ(error, "p.yaml:3:46: table: " + path + ": cannot read: it is a " +
                         (path == fifo_ ? "FIFO" : "character device") + ", not a regular file");
    const std::string trace =
        "version: 1\nprofile: " + path + "\nevents:\n  - {at: 1s, heal: all}\n";
    EXPECT_FALSE(ParseTraceText(trace, "t.yaml", "", nullptr, &error));
    EXPECT_EQ(error.find("t.yaml:2:10: profile: " + path + ": cannot read: it is a "), 0u) << error;
  }
}

}  // namespace
}  // namespace faultline
