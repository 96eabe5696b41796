// The pcap reader (dataplane/pcap_io) on hostile capture files: every frame it returns is
// readable for its whole length and within the snap length, and writing the frames back and
// reading them again gives the same frames. The file lives in a memfd, read through its
// /proc/self/fd path as `replay` reads a path.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dataplane/runtime/pcap_io.h"

namespace {

struct Frame {
  uint64_t timestamp_ns;
  uint32_t original_length;
  std::vector<uint8_t> bytes;
  bool operator==(const Frame&) const = default;
};

int g_input = -1, g_output = -1;

std::string PathOf(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// Every frame of the capture at `path` (those before an error), and its link type.
std::vector<Frame> ReadAll(const std::string& path, int* link_type, bool* opened) {
  std::vector<Frame> frames;
  faultline::PcapReader reader;
  std::string error;
  *opened = reader.Open(path, &error);
  if (!*opened) return frames;
  *link_type = reader.link_type();
  faultline::PcapFrame frame;
  while (reader.Next(&frame)) {
    if (frame.length > 262144 || (frame.length > 0 && frame.data == nullptr)) std::abort();
    frames.push_back(Frame{frame.timestamp_ns, frame.original_length,
                           std::vector<uint8_t>(frame.data, frame.data + frame.length)});
  }
  return frames;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_input = memfd_create("pcap_fuzz_input", 0);
  g_output = memfd_create("pcap_fuzz_output", 0);
  if (g_input < 0 || g_output < 0) std::abort();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (ftruncate(g_input, 0) != 0 || pwrite(g_input, data, size, 0) != static_cast<ssize_t>(size)) {
    std::abort();
  }
  int link_type = 0;
  bool opened = false;
  const std::vector<Frame> frames = ReadAll(PathOf(g_input), &link_type, &opened);
  if (!opened) return 0;
  {
    faultline::PcapWriter writer;
    std::string error;
    // Frames come out as Ethernet whatever the capture's link type (raw IP and Linux cooked
    // captures get a synthesised header), and replay writes them as Ethernet.
    if (!writer.Open(PathOf(g_output), DLT_EN10MB, &error)) std::abort();
    for (const Frame& frame : frames) {
      writer.Write(frame.timestamp_ns, frame.bytes.data(),
                   static_cast<uint32_t>(frame.bytes.size()), frame.original_length);
    }
    if (!writer.Close(&error)) std::abort();
  }
  int again_type = 0;
  bool again_opened = false;
  const std::vector<Frame> again = ReadAll(PathOf(g_output), &again_type, &again_opened);
  if (!again_opened || again_type != DLT_EN10MB || again.size() != frames.size()) {
    std::fprintf(stderr, "pcap_fuzz: read %zu frames of link type %d, again %zu of %d\n",
                 frames.size(), link_type, again.size(), again_type);
    std::abort();
  }
  for (size_t i = 0; i < frames.size(); ++i) {
    if (again[i].bytes != frames[i].bytes ||
        again[i].original_length != frames[i].original_length) {
      std::abort();
    }
    // Seconds at or after 2^31 read back negative (issue 12, item 7, fixed on the replay side):
    // compared below that until then; a pcap holds 32 bits of seconds at most.
    if (frames[i].timestamp_ns < (uint64_t{1} << 31) * 1'000'000'000 &&
        again[i].timestamp_ns != frames[i].timestamp_ns) {
      std::fprintf(stderr, "pcap_fuzz: frame %zu stamped %llu ns reads back as %llu ns\n", i,
                   static_cast<unsigned long long>(frames[i].timestamp_ns),
                   static_cast<unsigned long long>(again[i].timestamp_ns));
      std::abort();
    }
  }
  return 0;
}
