// Cycles per pipeline stage, for bench/pipeline_stage_bench only: that binary compiles
// pipeline.cc with FAULTLINE_STAGE_TIMING; every other build compiles these macros to nothing, so
// the fast path pays no rdtsc.
#pragma once

#include <cstdint>

#ifdef FAULTLINE_STAGE_TIMING
#include <rte_cycles.h>
#endif

namespace faultline {

enum class Stage : uint8_t { kParse, kClassify, kModels, kWheelInsert, kRelease, kTx, kCount };

struct StageCycles {
  // One slot past the stages (index kCount): the bench times empty start/stop pairs in it.
  uint64_t cycles[static_cast<int>(Stage::kCount) + 1] = {};
  uint64_t calls[static_cast<int>(Stage::kCount) + 1] = {};
};

#ifdef FAULTLINE_STAGE_TIMING
inline StageCycles g_stage_cycles;  // one pipeline per bench process, one thread
#define FL_STAGE_START(name) const uint64_t name = rte_rdtsc()
#define FL_STAGE_STOP(stage, name)                                          \
  do {                                                                      \
    g_stage_cycles.cycles[static_cast<int>(stage)] += rte_rdtsc() - (name); \
    ++g_stage_cycles.calls[static_cast<int>(stage)];                        \
  } while (0)
#else
#define FL_STAGE_START(name) \
  do {                       \
  } while (0)
#define FL_STAGE_STOP(stage, name) \
  do {                             \
  } while (0)
#endif

}  // namespace faultline
