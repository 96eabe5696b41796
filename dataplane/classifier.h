// Rule matching: ordered rules, the first match wins. This is the linear classifier of the
// impairment issue; each rule is a few compares on the parsed header fields.
#pragma once

#include <cstdint>
#include <vector>

#include "dataplane/frame_parser.h"
#include "dataplane/profile_spec.h"

namespace faultline {

class RuleClassifier {
 public:
  void Add(const MatchSpec& match);

  // The first rule matching a frame received in `direction` (kAToB or kBToA), or -1.
  int Classify(const ParsedFrame& frame, Direction direction) const;

  size_t size() const { return rules_.size(); }

 private:
  struct Prefix4 {
    uint32_t address, mask;  // host byte order
  };
  struct Prefix6 {
    uint64_t high, low, mask_high, mask_low;  // host byte order halves
  };
  struct AddressSet {
    bool any = true;
    std::vector<Prefix4> v4;
    std::vector<Prefix6> v6;
    bool Contains(uint8_t family, const uint8_t* address) const;
  };
  struct Rule {
    uint8_t directions = 3;  // bit 0: a-to-b, bit 1: b-to-a
    int16_t proto = -1;      // -1: any
    bool ports = false;      // port ranges given: the frame needs a transport header
    uint16_t src_port_min = 0, src_port_max = 65535, dst_port_min = 0, dst_port_max = 65535;
    AddressSet src, dst;
  };
  std::vector<Rule> rules_;
};

}  // namespace faultline
