// A profile's impairments: each effect (delay, loss, duplicate, reorder, corrupt, rate, stall)
// with its keys, defaults and limits.
#include <filesystem>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/profile/profile_names.h"
#include "control/profile/profile_reader.h"
#include "dataplane/models/delay_distribution.h"

namespace faultline {
namespace {

// Row sums of the markov4 model are checked with this much slack, so that "30%" + "70%" (which
// are not exact in binary) still add up to at most 1.
constexpr double kProbabilityEpsilon = 1e-9;

constexpr uint32_t kMaxReorderDisplacement = 1024;
constexpr double kMaxBitErrorRate = 0.01;
constexpr int64_t kMinOverheadBytes = -64;
constexpr int64_t kMaxOverheadBytes = 1024;
bool Contains(std::initializer_list<std::string_view> names, std::string_view name) {
  for (std::string_view candidate : names) {
    if (candidate == name) return true;
  }
  return false;
}

// The keys of each loss model, to tell "belongs to another model" from "unknown".
struct LossModelKeys {
  LossModel model;
  std::initializer_list<std::string_view> keys;
};
const LossModelKeys kLossModelKeys[] = {
    {LossModel::kBernoulli, {"probability", "correlation"}},
    {LossModel::kGilbertElliott, {"p", "r", "loss-bad", "loss-good"}},
    {LossModel::kMarkov4, {"p13", "p31", "p32", "p23", "p14"}},
};

std::string LossModelName(LossModel model) {
  return std::string(kLossModelNames[static_cast<int>(model)]);
}

}  // namespace

bool ProfileParser::ParseImpairments(const Entry& impairments_entry) {
  std::vector<Entry> impairments;
  if (!Entries(impairments_entry, "impairments", /*allow_empty=*/true, &impairments)) {
    return false;
  }
  for (const Entry& entry : impairments) {
    if (profile_.impairments.size() == kMaxImpairments) {
      return Fail(entry.key_node, "more than " + std::to_string(kMaxImpairments) + " impairments");
    }
    if (entry.key.empty()) return Fail(entry.key_node, "an impairment needs a name");
    ImpairmentSpec impairment;
    impairment.name = entry.key;
    const std::string what = "impairment '" + entry.key + "'";
    std::vector<Entry> effects;
    // `name:` with nothing (or {}) is an impairment without effects: it forwards untouched.
    if (!Entries(entry, what, /*allow_empty=*/true, &effects)) return false;
    for (const Entry& effect : effects) {
      bool ok = true;
      if (effect.key == "delay") {
        ok = ParseDelay(effect, &impairment.delay.emplace());
      } else if (effect.key == "loss") {
        ok = ParseLoss(effect, &impairment.loss.emplace());
      } else if (effect.key == "duplicate") {
        ok = ParseDuplicate(effect, &impairment.duplicate.emplace());
      } else if (effect.key == "reorder") {
        ok = ParseReorder(effect, &impairment.reorder.emplace());
      } else if (effect.key == "corrupt") {
        ok = ParseCorrupt(effect, &impairment.corrupt.emplace());
      } else if (effect.key == "rate") {
        ok = ParseRateEffect(effect, &impairment.rate.emplace());
      } else if (effect.key == "stall") {
        ok = ParseStall(effect, &impairment.stall.emplace());
      } else {
        ok = UnknownKey(effect, what,
                        {"delay", "loss", "duplicate", "reorder", "corrupt", "rate", "stall"});
      }
      if (!ok) return false;
    }
    profile_.impairments.push_back(std::move(impairment));
  }
  return true;
}

bool ProfileParser::ParseDelay(const Entry& delay_entry, DelaySpec* delay) {
  std::vector<Entry> entries;
  if (!Entries(delay_entry, "delay", /*allow_empty=*/false, &entries)) return false;
  const Entry* shape = nullptr;  // the distribution or table entry
  std::string table;
  for (const Entry& entry : entries) {
    bool ok = true;
    if (entry.key == "base") {
      ok = BoundedDuration(entry, kMaxDelayNs, &delay->base_ns);
    } else if (entry.key == "jitter") {
      ok = BoundedDuration(entry, kMaxDelayNs, &delay->jitter_ns);
    } else if (entry.key == "correlation") {
      ok = Probability(entry, &delay->correlation);
    } else if (entry.key == "distribution" || entry.key == "table") {
      if (shape != nullptr) {
        return Fail(entry.key_node, "give either distribution or table, not both");
      }
      shape = &entry;
      if (entry.key == "table") {
        ok = Text(entry, &table);
        if (ok && table.empty()) ok = Fail(At(entry), "table needs the path of a .dist file");
        delay->distribution = DistributionKind::kTable;
      } else {
        size_t index = 0;
        ok = Choice(entry, kDistributionNames, &index);
        delay->distribution = static_cast<DistributionKind>(index);
      }
    } else {
      ok = UnknownKey(entry, "delay", {"base", "jitter", "distribution", "table", "correlation"});
    }
    if (!ok) return false;
  }
  if (delay->distribution == DistributionKind::kUniform) return true;
  // Every shape but uniform is a table of multiples of the jitter: without one it is void.
  if (delay->jitter_ns == 0) {
    return Fail(shape->value,
                shape->key + " '" + shape->value.Scalar() + "' needs a jitter greater than 0");
  }
  // Each table is made or read once per profile, however many impairments use it (a normal
  // table takes 400,000 erf() calls; a .dist file up to 16 MiB).
  std::string key = "generated " + std::to_string(static_cast<int>(delay->distribution));
  if (delay->distribution == DistributionKind::kTable) {
    std::filesystem::path path(table);
    if (path.is_relative()) path = base_directory_ / path;
    delay->table_path = path.string();
    key = "file " + delay->table_path;
  }
  auto cached = tables_.find(key);
  if (cached == tables_.end()) {
    std::vector<int16_t> values;
    if (delay->distribution != DistributionKind::kTable) {
      values = GenerateDistributionTable(delay->distribution);
    } else {
      std::string error;
      std::optional<std::vector<int16_t>> loaded = LoadDistributionTable(delay->table_path, &error);
      if (!loaded) return Fail(shape->value, "table: " + error);
      values = std::move(*loaded);
    }
    cached = tables_.emplace(key, std::move(values)).first;
  }
  table_values_ += cached->second.size();
  if (table_values_ > kMaxDelayTableValues) {
    return Fail(shape->value, "the delay tables of all impairments hold more than " +
                                  std::to_string(kMaxDelayTableValues) + " values");
  }
  delay->table = cached->second;
  return true;
}

bool ProfileParser::ParseLoss(const Entry& loss_entry, LossSpec* loss) {
  std::vector<Entry> entries;
  if (!Entries(loss_entry, "loss", /*allow_empty=*/false, &entries)) return false;
  // The model decides which keys are valid, wherever it is written in the map.
  bool model_given = false;
  for (const Entry& entry : entries) {
    if (entry.key != "model") continue;
    size_t index = 0;
    if (!Choice(entry, kLossModelNames, &index)) return false;
    loss->model = static_cast<LossModel>(index);
    model_given = true;
  }
  const std::string model_name = LossModelName(loss->model);
  std::map<std::string, const Entry*> given;
  for (const Entry& entry : entries) {
    if (entry.key == "model") continue;
    if (entry.key == "max-size") {
      Size size;
      if (!PositiveSize(entry, &size)) return false;
      if (size.packets || size.value > UINT32_MAX) {
        return Fail(entry.value, "max-size must be a frame size in bytes, like 1500B");
      }
      loss->max_size = static_cast<uint32_t>(size.value);
      continue;
    }
    const LossModelKeys* owner = nullptr;
    for (const LossModelKeys& model : kLossModelKeys) {
      if (Contains(model.keys, entry.key)) owner = &model;
    }
    if (owner == nullptr) {
      return UnknownKey(entry, "loss",
                        {"model", "probability", "correlation", "p", "r", "loss-bad", "loss-good",
                         "p13", "p31", "p32", "p23", "p14", "max-size"});
    }
    if (owner->model != loss->model) {
      return Fail(
          entry.key_node,
          "'" + entry.key + "' belongs to the " + LossModelName(owner->model) +
              " loss model, but this loss is " + model_name +
              (model_given ? ""
                           : " (the default; set model: " + LossModelName(owner->model) + ")"));
    }
    double* field = entry.key == "probability"   ? &loss->probability
                    : entry.key == "correlation" ? &loss->correlation
                    : entry.key == "p"           ? &loss->p
                    : entry.key == "r"           ? &loss->r
                    : entry.key == "loss-bad"    ? &loss->loss_bad
                    : entry.key == "loss-good"   ? &loss->loss_good
                    : entry.key == "p13"         ? &loss->p13
                    : entry.key == "p31"         ? &loss->p31
                    : entry.key == "p32"         ? &loss->p32
                    : entry.key == "p23"         ? &loss->p23
                                                 : &loss->p14;
    if (!Probability(entry, field)) return false;
    given[entry.key] = &entry;
  }
  return LossDefaults(loss_entry, given, loss);
}

bool ProfileParser::LossDefaults(const Entry& loss_entry,
                                 const std::map<std::string, const Entry*>& given, LossSpec* loss) {
  const std::string model_name = LossModelName(loss->model);
  // Where to point for a problem with a key's value; the loss map when the key is absent.
  auto at = [&](const char* key) -> const yaml::Node& {
    return given.count(key) ? given.at(key)->value : loss_entry.value;
  };
  auto require = [&](const char* key) {
    if (given.count(key)) return true;
    return Fail(loss_entry.value,
                "the " + model_name + " loss model needs '" + std::string(key) + "'");
  };
  switch (loss->model) {
    case LossModel::kBernoulli:
      return require("probability");
    case LossModel::kGilbertElliott:
      // tc's gemodel defaults: r = 1 - p, all loss in the bad state, none in the good one.
      if (!require("p")) return false;
      if (!given.count("r")) loss->r = 1 - loss->p;
      if (!given.count("loss-bad")) loss->loss_bad = 1;
      if (!given.count("loss-good")) loss->loss_good = 0;
      return true;
    case LossModel::kMarkov4: {
      // tc's `loss state` defaults.
      if (!require("p13")) return false;
      if (!given.count("p31")) loss->p31 = 1 - loss->p13;
      if (!given.count("p32")) loss->p32 = 0;
      if (!given.count("p23")) loss->p23 = 1;
      if (!given.count("p14")) loss->p14 = 0;
      // The chances of leaving a state cannot add up to more than 1. With p14 and p32 at their
      // default of 0 the sums cannot exceed 1, so when they do, p14 or p32 was given: point
      // there.
      if (loss->p13 + loss->p14 > 1 + kProbabilityEpsilon) {
        return Fail(at("p14"), "markov4: p13 + p14 = " + FormatProbability(loss->p13 + loss->p14) +
                                   " is more than 100% (they leave state 1)");
      }
      if (loss->p31 + loss->p32 > 1 + kProbabilityEpsilon) {
        return Fail(at("p32"),
                    "markov4: p31 + p32 = " + FormatProbability(loss->p31 + loss->p32) +
                        " is more than 100% (they leave state 3)" +
                        (given.count("p31") ? "" : "; p31 defaults to 1 - p13, give it"));
      }
      return true;
    }
  }
  return true;
}

bool ProfileParser::ParseDuplicate(const Entry& duplicate_entry, DuplicateSpec* duplicate) {
  std::vector<Entry> entries;
  if (!Entries(duplicate_entry, "duplicate", /*allow_empty=*/false, &entries)) return false;
  bool has_probability = false;
  for (const Entry& entry : entries) {
    bool ok = true;
    if (entry.key == "probability") {
      ok = Probability(entry, &duplicate->probability);
      has_probability = true;
    } else if (entry.key == "correlation") {
      ok = Probability(entry, &duplicate->correlation);
    } else {
      ok = UnknownKey(entry, "duplicate", {"probability", "correlation"});
    }
    if (!ok) return false;
  }
  if (!has_probability) return Fail(duplicate_entry.value, "duplicate needs 'probability'");
  return true;
}

bool ProfileParser::ParseReorder(const Entry& reorder_entry, ReorderSpec* reorder) {
  std::vector<Entry> entries;
  // Every key is optional: `reorder: {}` lets jitter reorder the flow (netem's behaviour) and
  // `reorder: {max-displacement: 4}` lets it reorder by at most 4 places.
  if (!Entries(reorder_entry, "reorder", /*allow_empty=*/true, &entries)) return false;
  for (const Entry& entry : entries) {
    bool ok = true;
    uint64_t number = 0;
    if (entry.key == "probability") {
      ok = Probability(entry, &reorder->probability);
    } else if (entry.key == "correlation") {
      ok = Probability(entry, &reorder->correlation);
    } else if (entry.key == "gap") {
      ok = Integer(entry, 1, UINT32_MAX, &number);
      reorder->gap = static_cast<uint32_t>(number);
    } else if (entry.key == "max-displacement") {
      ok = Integer(entry, 0, kMaxReorderDisplacement, &number);
      reorder->max_displacement = static_cast<uint32_t>(number);
    } else {
      ok = UnknownKey(entry, "reorder", {"probability", "correlation", "gap", "max-displacement"});
    }
    if (!ok) return false;
  }
  return true;
}

bool ProfileParser::ParseCorrupt(const Entry& corrupt_entry, CorruptSpec* corrupt) {
  std::vector<Entry> entries;
  if (!Entries(corrupt_entry, "corrupt", /*allow_empty=*/false, &entries)) return false;
  const Entry* probability = nullptr;
  const Entry* ber = nullptr;
  const Entry* correlation = nullptr;
  for (const Entry& entry : entries) {
    bool ok = true;
    if (entry.key == "probability" || entry.key == "ber") {
      if (probability != nullptr || ber != nullptr) {
        return Fail(entry.key_node, "give either probability or ber, not both");
      }
      if (entry.key == "probability") {
        probability = &entry;
        ok = Probability(entry, &corrupt->probability);
      } else {
        ber = &entry;
        ok = Probability(entry, &corrupt->ber);
        if (ok && corrupt->ber > kMaxBitErrorRate) {
          // Beyond 1% a frame is noise, and the per-bit draw would dominate the fast path.
          ok = Fail(entry.value, "ber: '" + entry.value.Scalar() + "' is above the maximum " +
                                     "bit error rate of 0.01");
        }
        if (ok && corrupt->ber > 0 && corrupt->ber < kMinBitErrorRate) {
          // The distance to the next error, in bits, must fit 64 bits (and one error per
          // 10^15 bits is a day of 10 Gbit/s).
          ok = Fail(entry.value, "ber: '" + entry.value.Scalar() + "' is below the minimum " +
                                     "bit error rate of 1e-15 (0 for none)");
        }
      }
    } else if (entry.key == "correlation") {
      correlation = &entry;
      ok = Probability(entry, &corrupt->correlation);
    } else if (entry.key == "fix-checksums") {
      ok = Bool(entry, &corrupt->fix_checksums);
    } else {
      ok = UnknownKey(entry, "corrupt", {"probability", "correlation", "ber", "fix-checksums"});
    }
    if (!ok) return false;
  }
  if (probability == nullptr && ber == nullptr) {
    return Fail(corrupt_entry.value, "corrupt needs 'probability' or 'ber'");
  }
  if (ber != nullptr && correlation != nullptr) {
    // Correlation links successive per-frame draws; ber draws per bit, so it would mean nothing.
    return Fail(correlation->key_node, "correlation applies to probability, not to ber");
  }
  return true;
}

// A queue limit: one size, or a list of one packet count and one byte size (both apply).
bool ProfileParser::ParseLimit(const Entry& entry, SizeLimit* limit) {
  if (!entry.value.IsSequence()) {
    return BoundedSize(entry, kMaxQueuePackets, kMaxQueueBytes, limit);
  }
  const std::string shape =
      entry.key + " as a list needs one packet count and one byte size, like [1000pkt, 1MB]";
  if (entry.value.size() != 2) return Fail(entry.value, shape);
  *limit = SizeLimit{};
  for (const yaml::Node& item : entry.value) {
    SizeLimit one;
    if (!BoundedSize(Entry{entry.key, entry.key_node, item}, kMaxQueuePackets, kMaxQueueBytes,
                     &one)) {
      return false;
    }
    uint64_t& slot = one.packets ? limit->packets : limit->bytes;
    if (slot != 0) return Fail(item, shape);
    slot = one.packets ? one.packets : one.bytes;
  }
  return true;
}

bool ProfileParser::ParseRateEffect(const Entry& rate_entry, RateSpec* rate) {
  std::vector<Entry> entries;
  if (!Entries(rate_entry, "rate", /*allow_empty=*/false, &entries)) return false;
  bool has_bandwidth = false, has_queue_limit = false;
  const Entry* ecn = nullptr;
  for (const Entry& entry : entries) {
    bool ok = true;
    if (entry.key == "bandwidth") {
      ok = Rate(entry, &rate->bandwidth_bps);
      if (ok && rate->bandwidth_bps == 0) ok = Fail(entry.value, "bandwidth must be more than 0");
      ok = ok && Within(entry, rate->bandwidth_bps, kMinBandwidthBps, kMaxBandwidthBps, FormatRate);
      has_bandwidth = true;
    } else if (entry.key == "overhead") {
      ok = ParseOverhead(entry, &rate->overhead_bytes);
    } else if (entry.key == "queue-limit") {
      ok = ParseLimit(entry, &rate->queue_limit);
      has_queue_limit = true;
    } else if (entry.key == "ecn-threshold") {
      ok = BoundedSize(entry, kMaxQueuePackets, kMaxQueueBytes, &rate->ecn_threshold);
      ecn = &entry;
    } else {
      ok = UnknownKey(entry, "rate", {"bandwidth", "overhead", "queue-limit", "ecn-threshold"});
    }
    if (!ok) return false;
  }
  if (!has_bandwidth) return Fail(rate_entry.value, "rate needs 'bandwidth'");
  if (!has_queue_limit) rate->queue_limit.packets = kDefaultQueueLimitPackets;
  // Marking only makes sense while the queue can still grow past the mark; a limit of the other
  // kind (or none of this kind) cannot be compared, and does not stop the queue reaching it.
  if (ecn != nullptr) {
    const SizeLimit& mark = rate->ecn_threshold;
    const SizeLimit& limit = rate->queue_limit;
    const bool packets = mark.packets != 0;
    const uint64_t threshold = packets ? mark.packets : mark.bytes;
    const uint64_t bound = packets ? limit.packets : limit.bytes;
    if (bound != 0 && threshold >= bound) {
      return Fail(ecn->value, "ecn-threshold " + FormatSize({threshold, packets}) +
                                  " must be below the queue limit of " +
                                  FormatSize({bound, packets}) +
                                  (has_queue_limit ? "" : " (the default)"));
    }
  }
  return true;
}

// "20B", "-4B": bytes added to (or taken from) every frame's length on the link.
bool ProfileParser::ParseOverhead(const Entry& entry, int32_t* overhead) {
  std::string text, error;
  if (!Text(entry, &text)) return false;
  const bool negative = !text.empty() && text[0] == '-';
  const std::string magnitude = negative ? text.substr(1) : text;
  const std::optional<Size> size = ParseSize(magnitude, &error);
  if (!size) {
    // ParseSize's errors start by quoting what it was given; quote the sign too.
    if (negative) error = "'" + text + "'" + error.substr(magnitude.size() + 2);
    return Fail(entry.value, "overhead: " + error);
  }
  const int64_t bytes = size->value > 1'000'000 ? INT64_MAX : static_cast<int64_t>(size->value);
  const int64_t signed_bytes = negative ? -bytes : bytes;
  if (size->packets || signed_bytes < kMinOverheadBytes || signed_bytes > kMaxOverheadBytes) {
    return Fail(entry.value, "overhead: '" + text + "' must be bytes from " +
                                 std::to_string(kMinOverheadBytes) + "B to " +
                                 std::to_string(kMaxOverheadBytes) + "B");
  }
  *overhead = static_cast<int32_t>(signed_bytes);
  return true;
}

bool ProfileParser::ParseStall(const Entry& stall_entry, StallSpec* stall) {
  std::vector<Entry> entries;
  if (!Entries(stall_entry, "stall", /*allow_empty=*/false, &entries)) return false;
  const Entry* for_entry = nullptr;
  const Entry* every = nullptr;
  bool has_limit = false;
  for (const Entry& entry : entries) {
    bool ok = true;
    if (entry.key == "for") {
      ok = BoundedDuration(entry, kMaxStallNs, &stall->duration_ns);
      if (ok && stall->duration_ns == 0) ok = Fail(entry.value, "for must be more than 0s");
      for_entry = &entry;
    } else if (entry.key == "start") {
      ok = BoundedDuration(entry, kMaxStallPeriodNs, &stall->start_ns);
    } else if (entry.key == "every") {
      ok = BoundedDuration(entry, kMaxStallPeriodNs, &stall->every_ns);
      every = &entry;
    } else if (entry.key == "limit") {
      ok = BoundedSize(entry, kMaxStallLimitPackets, kMaxStallLimitBytes, &stall->limit);
      has_limit = true;
    } else {
      ok = UnknownKey(entry, "stall", {"for", "start", "every", "limit"});
    }
    if (!ok) return false;
  }
  if (for_entry == nullptr) return Fail(stall_entry.value, "stall needs 'for' (how long)");
  // A period no longer than the stall itself would never let a frame through.
  if (every != nullptr && stall->every_ns <= stall->duration_ns) {
    return Fail(every->value, "every (" + FormatDuration(stall->every_ns) +
                                  ") must be longer than for (" +
                                  FormatDuration(stall->duration_ns) + ")");
  }
  if (!has_limit) stall->limit.packets = kDefaultStallLimitPackets;
  return true;
}
}  // namespace faultline
