#include "dataplane/config/starting_profile.h"

namespace faultline {

ProfileSpec ConstantDelayProfile(uint64_t delay_ns) {
  ProfileSpec spec;
  ImpairmentSpec delay;
  delay.name = "delay";
  delay.delay = DelaySpec{.base_ns = delay_ns};
  spec.impairments.push_back(delay);
  spec.rules.push_back(RuleSpec{.name = "all", .match = {}, .impairment = 0});
  return spec;
}

ProfileSpec StartingProfile(const std::optional<ProfileSpec>& profile, uint64_t delay_ns) {
  if (profile) return *profile;
  if (delay_ns != 0) return ConstantDelayProfile(delay_ns);
  return ProfileSpec{};
}

}  // namespace faultline
