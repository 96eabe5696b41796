// Loss models with netem's exact semantics (net/sched/sch_netem.c, loss_event()):
//   bernoulli:        lost with probability p; with a correlation, a two-state chain that keeps
//                     the rate at p (CorrelatedChance, random.h; netem's correlation does not);
//   gilbert-elliott:  two states; each packet first moves the chain (good->bad with p,
//                     bad->good with r), then is lost with the loss probability of the state it
//                     was in when it arrived (netem's order);
//   markov4:          netem's 4-state model (Salsano et al.); a packet is lost iff the chain
//                     enters a loss state (3: lost in a burst, 4: isolated loss).
// All probabilities are 32-bit thresholds (random.h): no floating point per packet.
#pragma once

#include <cstdint>

#include "dataplane/config/profile_spec.h"
#include "dataplane/fastpath/random.h"

namespace faultline {

struct CompiledLoss {
  LossModel model = LossModel::kBernoulli;
  CorrelatedChance chance;                                   // bernoulli
  uint64_t p = 0, r = 0, keep_in_bad = 0, loss_in_good = 0;  // gilbert-elliott
  uint64_t p13 = 0, p31 = 0, p32 = 0, p23 = 0, p14 = 0;      // markov4
  uint32_t max_size = 0;                                     // bytes; 0: any size

  static CompiledLoss Compile(const LossSpec& spec);
};

// States of the per-flow chain (FlowState::loss_state). Gilbert-Elliott uses the first two.
enum LossState : uint8_t {
  kLossGood = 0,  // markov4: state 1, transmitting in a gap period
  kLossBad = 1,   // markov4: state 2, transmitting in a burst period
  kLostInBurst = 2,
  kLostInGap = 3,
};

// Whether the next packet is lost; updates the flow's chain state and correlation memory.
inline bool LossEvent(const CompiledLoss& loss, uint8_t* state, uint32_t* last, Rng& rng) {
  switch (loss.model) {
    case LossModel::kBernoulli:
      return loss.chance.Draw(rng, last);
    case LossModel::kGilbertElliott:
      if (*state == kLossGood) {
        if (rng.Next32() < loss.p) *state = kLossBad;
        return rng.Next32() < loss.loss_in_good;
      }
      if (rng.Next32() < loss.r) *state = kLossGood;
      // netem: lost unless the draw falls under h = 1 - loss-bad.
      return rng.Next32() >= loss.keep_in_bad;
    case LossModel::kMarkov4: {
      const uint64_t draw = rng.Next32();
      switch (*state) {
        case kLossGood:
          if (draw < loss.p14) {
            *state = kLostInGap;
            return true;
          }
          if (draw < loss.p14 + loss.p13) {
            *state = kLostInBurst;
            return true;
          }
          return false;
        case kLossBad:
          if (draw < loss.p23) {
            *state = kLostInBurst;
            return true;
          }
          return false;
        case kLostInBurst:
          if (draw < loss.p32) {
            *state = kLossBad;
            return false;
          }
          if (draw < loss.p32 + loss.p31) {
            *state = kLossGood;
            return false;
          }
          return true;
        default:  // kLostInGap: an isolated loss is always followed by a transmission
          *state = kLossGood;
          return false;
      }
    }
  }
  return false;
}

}  // namespace faultline
