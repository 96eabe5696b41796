#include "dataplane/models/loss_model.h"

namespace faultline {

CompiledLoss CompiledLoss::Compile(const LossSpec& spec) {
  CompiledLoss loss;
  loss.model = spec.model;
  loss.chance = CorrelatedChance::From(spec.probability, spec.correlation);
  loss.p = ProbabilityThreshold(spec.p);
  loss.r = ProbabilityThreshold(spec.r);
  loss.keep_in_bad = ProbabilityThreshold(1.0 - spec.loss_bad);
  loss.loss_in_good = ProbabilityThreshold(spec.loss_good);
  loss.p13 = ProbabilityThreshold(spec.p13);
  loss.p31 = ProbabilityThreshold(spec.p31);
  loss.p32 = ProbabilityThreshold(spec.p32);
  loss.p23 = ProbabilityThreshold(spec.p23);
  loss.p14 = ProbabilityThreshold(spec.p14);
  loss.max_size = spec.max_size;
  return loss;
}

}  // namespace faultline
