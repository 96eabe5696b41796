// The loss state machines, step by step. Probabilities of 0 and 1 make every transition
// certain whatever the draws; for the others a twin generator (same seed) predicts each draw,
// so the expected outcome follows from netem's rules rather than from the code under test.
#include "dataplane/models/loss_model.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace faultline {
namespace {

struct Chain {
  CompiledLoss loss;
  uint8_t state = kLossGood;
  uint32_t last = 0;
  Rng rng;

  explicit Chain(const LossSpec& spec, uint64_t seed = 1)
      : loss(CompiledLoss::Compile(spec)), rng(seed) {}
  bool Next() { return LossEvent(loss, &state, &last, rng); }
};

LossSpec Bernoulli(double probability, double correlation = 0) {
  LossSpec spec;
  spec.model = LossModel::kBernoulli;
  spec.probability = probability;
  spec.correlation = correlation;
  return spec;
}

LossSpec GilbertElliott(double p, double r, double loss_bad = 1, double loss_good = 0) {
  LossSpec spec;
  spec.model = LossModel::kGilbertElliott;
  spec.p = p;
  spec.r = r;
  spec.loss_bad = loss_bad;
  spec.loss_good = loss_good;
  return spec;
}

LossSpec Markov4(double p13, double p31, double p32, double p23, double p14) {
  LossSpec spec;
  spec.model = LossModel::kMarkov4;
  spec.p13 = p13;
  spec.p31 = p31;
  spec.p32 = p32;
  spec.p23 = p23;
  spec.p14 = p14;
  return spec;
}

TEST(BernoulliLossTest, ZeroAndOne) {
  Chain never(Bernoulli(0));
  Chain always(Bernoulli(1));
  for (int i = 0; i < 10000; ++i) {
    ASSERT_FALSE(never.Next());
    ASSERT_TRUE(always.Next());
  }
}

TEST(BernoulliLossTest, LostIffTheDrawIsBelowTheThreshold) {
  Chain chain(Bernoulli(0.3), 11);
  Rng twin(11);
  const uint64_t threshold = ProbabilityThreshold(0.3);
  int lost = 0;
  for (int i = 0; i < 10000; ++i) {
    const bool expected = twin.Next32() < threshold;
    ASSERT_EQ(chain.Next(), expected) << i;
    lost += expected;
  }
  EXPECT_NEAR(lost, 3000, 250);  // 5 sigma of a binomial(10000, 0.3) is 229
}

TEST(BernoulliLossTest, CorrelationIsAChainOnThePreviousDecision) {
  // p 50%, correlation 50%: lost with 75% after a loss, 25% after a frame that went through
  // (random.h, CorrelatedChance), one draw per frame; the flow's memory is the last decision.
  Chain chain(Bernoulli(0.5, 0.5), 3);
  Rng twin(3);
  bool previous = false;
  for (int i = 0; i < 1000; ++i) {
    const bool lost = twin.Next32() < ProbabilityThreshold(previous ? 0.75 : 0.25);
    ASSERT_EQ(chain.Next(), lost) << i;
    ASSERT_EQ(chain.last != 0, lost) << i;
    previous = lost;
  }
}

TEST(BernoulliLossTest, CorrelationKeepsTheLossRate) {
  // 2% with correlation 50%: still 2% of frames (1M frames, fixed seed; lag-one correlation 0.5
  // triples the variance: sigma 0.00024, tolerance 5 sigma), in longer bursts than without.
  Chain chain(Bernoulli(0.02, 0.5), 8);
  int lost = 0, lost_after_lost = 0;
  bool previous = false;
  for (int i = 0; i < 1'000'000; ++i) {
    const bool now = chain.Next();
    lost += now;
    lost_after_lost += now && previous;
    previous = now;
  }
  EXPECT_NEAR(lost / 1e6, 0.02, 0.0012);
  // P(lost | previous lost) = p + rho (1 - p) = 0.51.
  EXPECT_NEAR(static_cast<double>(lost_after_lost) / lost, 0.51, 0.03);
}

TEST(GilbertElliottLossTest, WithPZeroNeverEntersBad) {
  Chain chain(GilbertElliott(0, 0.5));
  for (int i = 0; i < 100000; ++i) {
    ASSERT_FALSE(chain.Next());
    ASSERT_EQ(chain.state, kLossGood);
  }
}

TEST(GilbertElliottLossTest, LossFollowsTheStateTheFrameArrivedIn) {
  // p = 1, r = 0: the first frame arrives in good (moves the chain to bad, not lost); every
  // later one arrives in bad and is lost (loss-bad 100%).
  Chain stuck(GilbertElliott(1, 0));
  EXPECT_FALSE(stuck.Next());
  EXPECT_EQ(stuck.state, kLossBad);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(stuck.Next());
    ASSERT_EQ(stuck.state, kLossBad);
  }
  // p = 1, r = 1: the chain alternates; frames arriving in bad are lost.
  Chain flip(GilbertElliott(1, 1));
  for (int i = 0; i < 100; ++i) {
    ASSERT_FALSE(flip.Next()) << i;
    ASSERT_EQ(flip.state, kLossBad);
    ASSERT_TRUE(flip.Next()) << i;
    ASSERT_EQ(flip.state, kLossGood);
  }
  // loss-good 100%, loss-bad 0%: the other way round.
  Chain inverse(GilbertElliott(1, 1, 0, 1));
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(inverse.Next());
    ASSERT_FALSE(inverse.Next());
  }
}

TEST(GilbertElliottLossTest, EachFrameDrawsTransitionThenLoss) {
  // Intermediate probabilities: the twin replays netem's two draws per frame.
  const LossSpec spec = GilbertElliott(0.2, 0.4, 0.7, 0.1);
  const CompiledLoss loss = CompiledLoss::Compile(spec);
  Chain chain(spec, 77);
  Rng twin(77);
  uint8_t state = kLossGood;
  int bad_frames = 0;
  for (int i = 0; i < 20000; ++i) {
    bool lost;
    if (state == kLossGood) {
      if (twin.Next32() < loss.p) state = kLossBad;
      lost = twin.Next32() < loss.loss_in_good;
    } else {
      ++bad_frames;
      if (twin.Next32() < loss.r) state = kLossGood;
      lost = twin.Next32() >= loss.keep_in_bad;
    }
    ASSERT_EQ(chain.Next(), lost) << i;
    ASSERT_EQ(chain.state, state) << i;
  }
  // Stationary share of frames arriving in bad: p / (p + r) = 1/3 (burstiness widens the
  // spread: sigma is about 0.006 here, the tolerance 5 sigma).
  EXPECT_NEAR(bad_frames / 20000.0, 1.0 / 3.0, 0.03);
}

TEST(GilbertElliottLossTest, StationaryLossRate) {
  // p 0.25%, r 24.75%: 1% of frames in bad, all lost; fixed seed, 1M frames. The chain's
  // lag-one correlation 0.75 widens sigma to about 0.00026; the tolerance is 5 sigma.
  Chain chain(GilbertElliott(0.0025, 0.2475));
  int lost = 0;
  for (int i = 0; i < 1'000'000; ++i) lost += chain.Next();
  EXPECT_NEAR(lost / 1e6, 0.01, 0.0013);
}

TEST(Markov4LossTest, GapToBurstLossAndBack) {
  // p13 = 1: from the gap state (1) every frame enters 3 and is lost; p31 = 1: from 3 back to 1
  // with the frame transmitted.
  Chain chain(Markov4(1, 1, 0, 0, 0));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(chain.Next());
    ASSERT_EQ(chain.state, kLostInBurst);
    ASSERT_FALSE(chain.Next());
    ASSERT_EQ(chain.state, kLossGood);
  }
}

TEST(Markov4LossTest, BurstLossesRepeatWhileStayingInThree) {
  // p31 = p32 = 0: once in 3 the chain stays, every frame lost.
  Chain chain(Markov4(1, 0, 0, 0, 0));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(chain.Next());
    ASSERT_EQ(chain.state, kLostInBurst);
  }
}

TEST(Markov4LossTest, BurstPeriodGoesThroughStateTwo) {
  // 1 -> 3 (lost), 3 -> 2 (p32 = 1, sent), 2 -> 3 (p23 = 1, lost), 3 -> 2 (sent), ...
  Chain chain(Markov4(1, 0, 1, 1, 0));
  ASSERT_TRUE(chain.Next());
  ASSERT_EQ(chain.state, kLostInBurst);
  for (int i = 0; i < 50; ++i) {
    ASSERT_FALSE(chain.Next());
    ASSERT_EQ(chain.state, kLossBad);
    ASSERT_TRUE(chain.Next());
    ASSERT_EQ(chain.state, kLostInBurst);
  }
  // p23 = 0: state 2 keeps transmitting.
  Chain quiet(Markov4(1, 0, 1, 0, 0));
  ASSERT_TRUE(quiet.Next());
  for (int i = 0; i < 50; ++i) {
    ASSERT_FALSE(quiet.Next());
    ASSERT_EQ(quiet.state, kLossBad);
  }
}

TEST(Markov4LossTest, IsolatedLossIsFollowedByATransmission) {
  // p14 = 1: 1 -> 4 (lost), then 4 -> 1 always (sent), whatever the draw.
  Chain chain(Markov4(0, 1, 0, 1, 1));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(chain.Next());
    ASSERT_EQ(chain.state, kLostInGap);
    ASSERT_FALSE(chain.Next());
    ASSERT_EQ(chain.state, kLossGood);
  }
}

TEST(Markov4LossTest, NoTransitionOutOfTheGapMeansNoLoss) {
  Chain chain(Markov4(0, 1, 0, 1, 0));
  for (int i = 0; i < 10000; ++i) {
    ASSERT_FALSE(chain.Next());
    ASSERT_EQ(chain.state, kLossGood);
  }
}

TEST(Markov4LossTest, OneDrawPerFrameSplitByCumulativeThresholds) {
  // netem's order in state 1: [0, p14) -> 4, [p14, p14 + p13) -> 3, else stay; in state 3:
  // [0, p32) -> 2, [p32, p32 + p31) -> 1, else stay lost.
  const LossSpec spec = Markov4(0.3, 0.4, 0.2, 0.5, 0.1);
  const CompiledLoss loss = CompiledLoss::Compile(spec);
  Chain chain(spec, 5);
  Rng twin(5);
  uint8_t state = kLossGood;
  int visits[4] = {};
  for (int i = 0; i < 20000; ++i) {
    const uint64_t draw = twin.Next32();
    bool lost = false;
    switch (state) {
      case kLossGood:
        if (draw < loss.p14) {
          state = kLostInGap;
          lost = true;
        } else if (draw < loss.p14 + loss.p13) {
          state = kLostInBurst;
          lost = true;
        }
        break;
      case kLossBad:
        if (draw < loss.p23) {
          state = kLostInBurst;
          lost = true;
        }
        break;
      case kLostInBurst:
        if (draw < loss.p32) {
          state = kLossBad;
        } else if (draw < loss.p32 + loss.p31) {
          state = kLossGood;
        } else {
          lost = true;
        }
        break;
      default:
        state = kLossGood;
        break;
    }
    ++visits[state];
    ASSERT_EQ(chain.Next(), lost) << i;
    ASSERT_EQ(chain.state, state) << i;
  }
  for (int visited : visits) EXPECT_GT(visited, 500) << "every state is reached";
}

}  // namespace
}  // namespace faultline
