// Statistical tests of the impairment models, end to end: each test runs `faultline replay` as
// users run it on a crafted capture of at least 100,000 Ethernet/IPv4/UDP frames (each carrying
// its index), then reads the output capture (timestamps are departure times in ns) and the
// --stats-json document, and checks what the models promise.
//
// Every run uses a fixed --seed, so a test either always passes or always fails. Tolerances are
// derived from the model (a comment at each check states the formula), never tuned to the
// observed values; 4 sigma is the usual bound (two-sided false-alarm chance ~6e-5 per check under
// a normal approximation). Where the model is netem's, the test carries its own reference
// implementation (double precision, std::mt19937_64) to compute the expected value.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "control/testbed/subprocess.h"
#include "dataplane/config/profile_spec.h"
#include "dataplane/models/delay_distribution.h"
#include "tests/faultline_binary.h"
#include "tests/pcap_fixtures.h"

namespace faultline {
namespace {

using nlohmann::json;
using testing::FaultlineBinary;
using testing::Frame;
using testing::Ipv4HeaderChecksumValid;
using testing::MakeUdpFrames;
using testing::ReadFileBytes;
using testing::ReadPcap;
using testing::RunFaultline;
using testing::TempPath;
using testing::UdpChecksumValid;
using testing::UdpDestinationPort;
using testing::UdpFrameIndex;
using testing::UdpStreamOptions;
using testing::WritePcap;

constexpr double kSigmas = 4.0;

// sqrt(p (1 - p) / n): the standard deviation of a binomial proportion.
double BinomialSigma(double p, double n) { return std::sqrt(p * (1 - p) / n); }

// What a replay produced: the output frames in file order and the statistics document.
struct ReplayResult {
  std::vector<Frame> output;
  json stats;
  // Per input index: how often it left, and its (last) departure time and output position.
  std::vector<uint32_t> copies;
  std::vector<uint64_t> departure;
  std::vector<size_t> position;
};

class ImpairmentStatisticsTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) { return temp_files_.Path(name); }

  // Runs `faultline replay` on `input` with `profile` (YAML text) and `seed`. `name` keeps the
  // files of the runs of one test apart.
  void Replay(const std::string& name, const std::vector<Frame>& input, const std::string& profile,
              uint64_t seed, ReplayResult* result, std::string* out_path = nullptr) {
    const std::string in = Path(name + "-in.pcap"), out = Path(name + "-out.pcap");
    const std::string yaml = Path(name + ".yaml"), stats = Path(name + "-stats.json");
    WritePcap(in, input);
    {
      std::ofstream file(yaml);
      file << profile;
    }
    const CommandResult run = RunFaultline({"replay", "--in", in, "--out", out, "--profile", yaml,
                                            "--seed", std::to_string(seed), "--stats-json", stats});
    ASSERT_EQ(run.status, 0) << run.output << "\nprofile:\n" << profile;
    result->output = ReadPcap(out);
    result->stats = json::parse(ReadFileBytes(stats));
    result->copies.assign(input.size(), 0);
    result->departure.assign(input.size(), UINT64_MAX);
    result->position.assign(input.size(), SIZE_MAX);
    for (size_t k = 0; k < result->output.size(); ++k) {
      const uint64_t index = UdpFrameIndex(result->output[k].bytes);
      if (index >= input.size()) continue;  // only corruption can do this; those tests check it
      ++result->copies[index];
      result->departure[index] = result->output[k].timestamp_ns;
      result->position[index] = k;
    }
    if (out_path != nullptr) *out_path = out;
  }

  testing::TempFiles temp_files_;
};

// The counters of rule `rule` in the statistics document.
const json& Rule(const ReplayResult& result, size_t rule) { return result.stats["rules"][rule]; }

// ---------------------------------------------------------------------------------------------
// Statistics helpers.

// Batch means for a ratio estimator R = sum(a) / sum(b) of a stationary, quickly mixing
// sequence: split into K batches of consecutive samples (each much longer than the correlation
// length), then by the delta method Var(R) ~ K / (K - 1) * sum_k (A_k - R B_k)^2 / B^2, where
// A_k, B_k are the batch totals and B the grand total.
struct RatioEstimate {
  double value = 0, sigma = 0;
};
RatioEstimate BatchRatio(const std::vector<double>& a, const std::vector<double>& b,
                         size_t batches) {
  const size_t n = a.size(), size = n / batches;
  std::vector<double> sum_a(batches, 0), sum_b(batches, 0);
  double total_a = 0, total_b = 0;
  for (size_t k = 0; k < batches; ++k) {
    for (size_t i = k * size; i < (k + 1) * size; ++i) {
      sum_a[k] += a[i];
      sum_b[k] += b[i];
    }
    total_a += sum_a[k];
    total_b += sum_b[k];
  }
  const double ratio = total_a / total_b;
  double squares = 0;
  for (size_t k = 0; k < batches; ++k) {
    squares += (sum_a[k] - ratio * sum_b[k]) * (sum_a[k] - ratio * sum_b[k]);
  }
  const double kb = static_cast<double>(batches);
  return {ratio, std::sqrt(kb / (kb - 1) * squares) / total_b};
}

// Stationary distribution of a finite Markov chain with transition matrix P (rows sum to 1):
// solves pi (P - I) = 0, sum pi = 1 by Gaussian elimination with partial pivoting.
std::vector<double> Stationary(const std::vector<std::vector<double>>& P) {
  const size_t n = P.size();
  // Equations: for each column j < n-1: sum_i pi_i (P_ij - delta_ij) = 0; last: sum pi_i = 1.
  std::vector<std::vector<double>> m(n, std::vector<double>(n + 1, 0));
  for (size_t j = 0; j + 1 < n; ++j) {
    for (size_t i = 0; i < n; ++i) m[j][i] = P[i][j] - (i == j ? 1 : 0);
  }
  for (size_t i = 0; i < n; ++i) m[n - 1][i] = 1;
  m[n - 1][n] = 1;
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t r = col + 1; r < n; ++r) {
      if (std::fabs(m[r][col]) > std::fabs(m[pivot][col])) pivot = r;
    }
    std::swap(m[col], m[pivot]);
    for (size_t r = 0; r < n; ++r) {
      if (r == col) continue;
      const double factor = m[r][col] / m[col][col];
      for (size_t c = col; c <= n; ++c) m[r][c] -= factor * m[col][c];
    }
  }
  std::vector<double> pi(n);
  for (size_t i = 0; i < n; ++i) pi[i] = m[i][n] / m[i][i];
  return pi;
}

// Asymptotic variance (times n) of the sample mean of f(X_t) for a stationary chain:
//   sigma^2 = Var_pi(f) + 2 sum_{k>=1} Cov_pi(f(X_0), f(X_k)),
// with Cov_pi(f(X_0), f(X_k)) = sum_i pi_i g_i (P^k g)_i, g = f - pi.f. The sum is taken until
// the terms fall below 1e-15 (the chains here mix geometrically, within a few hundred steps).
double MarkovMeanVariance(const std::vector<std::vector<double>>& P, const std::vector<double>& pi,
                          const std::vector<double>& f) {
  const size_t n = P.size();
  double mean = 0;
  for (size_t i = 0; i < n; ++i) mean += pi[i] * f[i];
  std::vector<double> g(n), v(n);
  for (size_t i = 0; i < n; ++i) g[i] = v[i] = f[i] - mean;
  auto covariance = [&](const std::vector<double>& w) {
    double c = 0;
    for (size_t i = 0; i < n; ++i) c += pi[i] * g[i] * w[i];
    return c;
  };
  double variance = covariance(v);
  for (int k = 1; k < 100'000; ++k) {
    std::vector<double> next(n, 0);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) next[i] += P[i][j] * v[j];
    }
    v = next;
    const double term = covariance(v);
    variance += 2 * term;
    if (std::fabs(term) < 1e-15) break;
  }
  return variance;
}

// Two-sample Kolmogorov-Smirnov statistic sup |F_a - F_b| (both samples sorted in place).
double KolmogorovSmirnov(std::vector<int64_t>& a, std::vector<int64_t>& b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  size_t i = 0, j = 0;
  double d = 0;
  while (i < a.size() && j < b.size()) {
    const int64_t x = std::min(a[i], b[j]);
    while (i < a.size() && a[i] == x) ++i;  // step over ties in both: the ECDFs at x
    while (j < b.size() && b[j] == x) ++j;
    d = std::max(d,
                 std::fabs(static_cast<double>(i) / a.size() - static_cast<double>(j) / b.size()));
  }
  return d;
}

// Critical value of the two-sample KS test at alpha = 0.001: c(alpha) sqrt((n + m) / (n m)) with
// c(alpha) = sqrt(-ln(alpha / 2) / 2) = 1.949. For discrete distributions (delays here take at
// most 4096 values per table) the test is conservative, so alpha stays an upper bound.
double KsCritical(size_t n, size_t m) {
  const double c = std::sqrt(-std::log(0.001 / 2) / 2);
  return c * std::sqrt(static_cast<double>(n + m) / (static_cast<double>(n) * m));
}

// A reference draw of netem's delay: base + jitter * t / 8192 with t a uniformly chosen entry of
// the table (rounded to the nearest ns), or uniform in [base - jitter, base + jitter) without a
// table; negative delays are sent at once (0). Independent of the product: double precision and
// std::mt19937_64.
int64_t ReferenceDelay(std::mt19937_64& rng, int64_t base, int64_t jitter,
                       const std::vector<int16_t>& table) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  double delay;
  if (table.empty()) {
    delay = std::floor(base - jitter + unit(rng) * 2.0 * jitter);
  } else {
    const size_t k = std::uniform_int_distribution<size_t>(0, table.size() - 1)(rng);
    delay = std::round(base + jitter * (table[k] / 8192.0));
  }
  return std::max<int64_t>(0, static_cast<int64_t>(delay));
}

// The seed comes from --seed (each run passes its own fixed one).
const std::string kHeader = "version: 1\n";

// =============================================================================================
// 1. Bernoulli loss.

TEST_F(ImpairmentStatisticsTest, BernoulliLossRateAndCountedDrops) {
  // Two rules on one capture: dst port 5000 loses 1%, 5001 loses 10%; 100,000 frames each.
  UdpStreamOptions options;
  options.count = 200'000;
  options.gap_ns = 5'000;
  options.flows = 2;
  options.dst_ports = 2;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string profile =
      kHeader +
      "impairments:\n"
      "  one: {loss: {model: bernoulli, probability: 1%}}\n"
      "  ten: {loss: {probability: 10%}}\n"
      "rules:\n"
      "  - {name: one, match: {proto: udp, dst-port: 5000}, impairment: one}\n"
      "  - {name: ten, match: {proto: udp, dst-port: 5001}, impairment: ten}\n";
  ReplayResult result;
  ASSERT_NO_FATAL_FAILURE(Replay("bernoulli", input, profile, 101, &result));
  const double p[2] = {0.01, 0.10};
  for (size_t rule = 0; rule < 2; ++rule) {
    uint64_t frames = 0, missing = 0;
    for (size_t i = rule; i < input.size(); i += 2) {
      ++frames;
      ASSERT_LE(result.copies[i], 1u);
      missing += result.copies[i] == 0;
    }
    // Counting is exact: every missing index is one loss drop, and nothing else dropped.
    EXPECT_EQ(Rule(result, rule)["dropped"]["loss"].get<uint64_t>(), missing) << "rule " << rule;
    EXPECT_EQ(Rule(result, rule)["dropped"]["total"].get<uint64_t>(), missing);
    EXPECT_EQ(Rule(result, rule)["matched"].get<uint64_t>(), frames);
    EXPECT_EQ(Rule(result, rule)["forwarded"].get<uint64_t>(), frames - missing);
    // Independent draws: missing ~ Binomial(n, p); |rate - p| <= 4 sqrt(p (1 - p) / n).
    const double rate = static_cast<double>(missing) / frames;
    const double sigma = BinomialSigma(p[rule], frames);
    std::printf("[ bernoulli ] p %.2f: rate %.5f (n %lu), 4 sigma %.5f\n", p[rule], rate, frames,
                kSigmas * sigma);
    EXPECT_NEAR(rate, p[rule], kSigmas * sigma) << "rule " << rule;
  }
}

// =============================================================================================
// 2. Correlated Bernoulli loss: a two-state chain with stationary rate p and lag-1 correlation
//    rho (CorrelatedChance in dataplane/random.h), not netem's get_crandom, whose averaged
//    draws change the loss rate itself.

// The conditional loss rates of a 0/1 loss sequence, with batch-means standard deviations.
struct ConditionalLoss {
  RatioEstimate after_loss, after_keep, overall;
};
ConditionalLoss Conditional(const std::vector<uint8_t>& lost, size_t batches) {
  const size_t n = lost.size() - 1;
  std::vector<double> both(n), prev_lost(n), lost_after_keep(n), prev_kept(n), now_lost(n),
      one(n, 1);
  for (size_t i = 0; i < n; ++i) {
    prev_lost[i] = lost[i];
    prev_kept[i] = 1 - lost[i];
    both[i] = lost[i] && lost[i + 1];
    lost_after_keep[i] = !lost[i] && lost[i + 1];
    now_lost[i] = lost[i + 1];
  }
  return {BatchRatio(both, prev_lost, batches), BatchRatio(lost_after_keep, prev_kept, batches),
          BatchRatio(now_lost, one, batches)};
}

TEST_F(ImpairmentStatisticsTest, CorrelatedBernoulliKeepsRateAndRaisesConditionalLoss) {
  // One flow, so "the previous packet" is well defined; 200,000 frames.
  constexpr double kP = 0.20, kRho = 0.60;
  UdpStreamOptions options;
  options.count = 200'000;
  options.gap_ns = 5'000;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string profile =
      kHeader +
      "impairments:\n"
      "  c: {loss: {model: bernoulli, probability: 20%, correlation: 60%}}\n"
      "rules:\n"
      "  - {name: all, match: {}, impairment: c}\n";
  ReplayResult result;
  ASSERT_NO_FATAL_FAILURE(Replay("correlated", input, profile, 202, &result));
  std::vector<uint8_t> lost(input.size());
  uint64_t missing = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    lost[i] = result.copies[i] == 0;
    missing += lost[i];
  }
  EXPECT_EQ(Rule(result, 0)["dropped"]["loss"].get<uint64_t>(), missing);

  // Reference: lost_n ~ Bernoulli(lost_{n-1} ? p + rho (1 - p) : p (1 - rho)), starting from
  // "not lost", simulated independently (std::mt19937_64, doubles). 4,000,000 steps, so its own
  // error is small. Its stationary rate is p and P(loss | lost) - P(loss | kept) = rho.
  std::mt19937_64 rng(20240202);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<uint8_t> reference(4'000'000);
  bool previous = false;
  for (auto& l : reference) {
    previous = unit(rng) < (previous ? kP + kRho * (1 - kP) : kP * (1 - kRho));
    l = previous;
  }
  // Batches of 2,000 (product) and 40,000 (reference) samples: the chain forgets its past as
  // rho^k (rho^40 < 1e-8), so batches are effectively independent. sigma by batch means.
  const ConditionalLoss product = Conditional(lost, 100), expected = Conditional(reference, 100);
  auto check = [](const char* what, const RatioEstimate& got, const RatioEstimate& want) {
    const double combined = std::hypot(got.sigma, want.sigma);
    std::printf(
        "[ correlated ] %s: product %.5f +- %.5f, reference %.5f +- %.5f, |diff| %.5f "
        "<= 4 sigma %.5f\n",
        what, got.value, got.sigma, want.value, want.sigma, std::fabs(got.value - want.value),
        kSigmas * combined);
    EXPECT_NEAR(got.value, want.value, kSigmas * combined) << what;
  };
  check("P(loss | previous lost)", product.after_loss, expected.after_loss);
  check("P(loss | previous kept)", product.after_keep, expected.after_keep);
  check("P(loss)", product.overall, expected.overall);
  // And against the closed form: the rate the user asked for, and exactly rho between the two
  // conditionals.
  const RatioEstimate exact_after_loss{kP + kRho * (1 - kP), 0},
      exact_after_keep{kP * (1 - kRho), 0}, exact_overall{kP, 0};
  check("P(loss | previous lost) closed form", product.after_loss, exact_after_loss);
  check("P(loss | previous kept) closed form", product.after_keep, exact_after_keep);
  check("P(loss) closed form", product.overall, exact_overall);
  // Correlation makes losses cluster: the difference is significant at 4 sigma (of the difference;
  // the two estimates are nearly independent, so their sigmas add in quadrature).
  const double difference = product.after_loss.value - product.after_keep.value;
  EXPECT_GT(difference, kSigmas * std::hypot(product.after_loss.sigma, product.after_keep.sigma));
  // And the check above can fail: a model without correlation (both conditionals equal to the
  // marginal rate) would be more than 4 combined sigma away from the reference.
  EXPECT_GT(std::fabs(expected.after_loss.value - expected.overall.value),
            kSigmas * std::hypot(product.after_loss.sigma, expected.after_loss.sigma));
}

// =============================================================================================
// 3. Gilbert-Elliott.

TEST_F(ImpairmentStatisticsTest, GilbertElliottStationaryRateAndBurstLength) {
  // Rule 0 (dst 5000): p 5%, r 25%, loss-bad 100%, loss-good 0% (bursts = bad periods).
  // Rule 1 (dst 5001): p 2%, r 10%, loss-bad 70%, loss-good 1%. One flow per rule, 100,000 each.
  UdpStreamOptions options;
  options.count = 200'000;
  options.gap_ns = 5'000;
  options.flows = 2;
  options.dst_ports = 2;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string profile =
      kHeader +
      "impairments:\n"
      "  ge1: {loss: {model: gilbert-elliott, p: 5%, r: 25%, loss-bad: 100%, loss-good: 0%}}\n"
      "  ge2: {loss: {model: gilbert-elliott, p: 2%, r: 10%, loss-bad: 70%, loss-good: 1%}}\n"
      "rules:\n"
      "  - {name: a, match: {proto: udp, dst-port: 5000}, impairment: ge1}\n"
      "  - {name: b, match: {proto: udp, dst-port: 5001}, impairment: ge2}\n";
  ReplayResult result;
  ASSERT_NO_FATAL_FAILURE(Replay("gilbert", input, profile, 303, &result));
  struct Model {
    double p, r, loss_bad, loss_good;
  };
  const Model models[2] = {{0.05, 0.25, 1.0, 0.0}, {0.02, 0.10, 0.70, 0.01}};
  for (size_t rule = 0; rule < 2; ++rule) {
    const Model& m = models[rule];
    std::vector<uint8_t> lost;
    for (size_t i = rule; i < input.size(); i += 2) lost.push_back(result.copies[i] == 0);
    const double n = static_cast<double>(lost.size());
    const uint64_t missing = static_cast<uint64_t>(std::count(lost.begin(), lost.end(), 1));
    EXPECT_EQ(Rule(result, rule)["dropped"]["loss"].get<uint64_t>(), missing);
    // The state S_n a packet finds (before its transition) is a two-state chain with
    // pi_B = p / (p + r) and second eigenvalue lambda = 1 - p - r; packet n is lost with
    // probability loss(S_n), independently given S_n. So the rate is
    //   pi_B loss_bad + pi_G loss_good,
    // and the variance of the observed rate over n packets is (Markov chain CLT) V / n with
    //   V = pi_B lb (1 - lb) + pi_G lg (1 - lg) + (lb - lg)^2 pi_B pi_G (1 + lambda) / (1 - lambda)
    // (the first two terms the Bernoulli noise given the state, the last the state's
    // autocorrelated indicator, whose lag-k autocorrelation is lambda^k).
    const double pi_b = m.p / (m.p + m.r), pi_g = 1 - pi_b, lambda = 1 - m.p - m.r;
    const double expected = pi_b * m.loss_bad + pi_g * m.loss_good;
    const double variance =
        (pi_b * m.loss_bad * (1 - m.loss_bad) + pi_g * m.loss_good * (1 - m.loss_good) +
         (m.loss_bad - m.loss_good) * (m.loss_bad - m.loss_good) * pi_b * pi_g * (1 + lambda) /
             (1 - lambda)) /
        n;
    const double rate = missing / n;
    std::printf("[ gilbert-elliott ] rule %zu: rate %.5f, expected %.5f, 4 sigma %.5f\n", rule,
                rate, expected, kSigmas * std::sqrt(variance));
    EXPECT_NEAR(rate, expected, kSigmas * std::sqrt(variance)) << "rule " << rule;
    if (rule != 0) continue;
    // With loss-bad 100% and loss-good 0% a loss burst is exactly a stay in the bad state: its
    // length is geometric on {1, 2, ...} with mean 1 / r and variance (1 - r) / r^2, and bursts
    // are independent (the chain renews on entering bad). Mean of k bursts: 4 sqrt((1-r)/r^2/k).
    // The bursts cut by either end of the capture are left out.
    std::vector<uint64_t> bursts;
    uint64_t run = 0;
    for (size_t i = 0; i < lost.size(); ++i) {
      if (lost[i]) {
        ++run;
      } else {
        if (run > 0 && i != run) bursts.push_back(run);  // i == run: began at 0
        run = 0;
      }
    }
    const double k = static_cast<double>(bursts.size());
    double mean = 0;
    for (uint64_t b : bursts) mean += b;
    mean /= k;
    const double sigma = std::sqrt((1 - m.r) / (m.r * m.r) / k);
    std::printf(
        "[ gilbert-elliott ] mean burst %.4f over %zu bursts, expected %.4f, 4 sigma %.4f\n", mean,
        bursts.size(), 1 / m.r, kSigmas * sigma);
    EXPECT_NEAR(mean, 1 / m.r, kSigmas * sigma);
    // The number of bursts: good and bad stays alternate, geometric with means 1/p and 1/r, so
    // by the renewal CLT the count over n packets is n / mu within 4 sqrt(n s^2 / mu^3), with
    // mu = 1/p + 1/r and s^2 = (1 - p) / p^2 + (1 - r) / r^2 (up to the 2 bursts left out).
    const double mu = 1 / m.p + 1 / m.r;
    const double s2 = (1 - m.p) / (m.p * m.p) + (1 - m.r) / (m.r * m.r);
    std::printf("[ gilbert-elliott ] %zu bursts, expected %.1f, 4 sigma %.1f\n", bursts.size(),
                n / mu, kSigmas * std::sqrt(n * s2 / (mu * mu * mu)));
    EXPECT_NEAR(k, n / mu, kSigmas * std::sqrt(n * s2 / (mu * mu * mu)) + 2);
  }
}

// =============================================================================================
// 4. markov4.

TEST_F(ImpairmentStatisticsTest, Markov4MatchesStationaryDistribution) {
  constexpr double p13 = 0.05, p31 = 0.30, p32 = 0.20, p23 = 0.40, p14 = 0.02;
  UdpStreamOptions options;
  options.count = 200'000;
  options.gap_ns = 5'000;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string profile =
      kHeader +
      "impairments:\n"
      "  m4: {loss: {model: markov4, p13: 5%, p31: 30%, p32: 20%, p23: 40%, p14: 2%}}\n"
      "rules:\n"
      "  - {name: all, match: {}, impairment: m4}\n";
  ReplayResult result;
  ASSERT_NO_FATAL_FAILURE(Replay("markov4", input, profile, 404, &result));
  // loss_model.h's transitions (states 1 gap-rx, 2 burst-rx, 3 burst-loss, 4 gap-loss):
  //   1 -> 4 (p14), 1 -> 3 (p13), else stay;   2 -> 3 (p23), else stay;
  //   3 -> 2 (p32), 3 -> 1 (p31), else stay;   4 -> 1 always.
  // A packet is lost iff the chain enters (or stays in) 3 or 4 at its step.
  const std::vector<std::vector<double>> P = {{1 - p13 - p14, 0, p13, p14},
                                              {0, 1 - p23, p23, 0},
                                              {p31, p32, 1 - p31 - p32, 0},
                                              {1, 0, 0, 0}};
  const std::vector<double> pi = Stationary(P);
  const std::vector<double> loss = {0, 0, 1, 1};
  const double expected = pi[2] + pi[3];
  // The loss indicator is f(X_n) of the stationary chain: its mean over n packets has variance
  // sigma_f^2 / n with sigma_f^2 = Var(f) + 2 sum_k Cov(f(X_0), f(X_k)) (MarkovMeanVariance).
  const double n = static_cast<double>(input.size());
  const double sigma = std::sqrt(MarkovMeanVariance(P, pi, loss) / n);
  uint64_t missing = 0;
  for (uint32_t c : result.copies) missing += c == 0;
  EXPECT_EQ(Rule(result, 0)["dropped"]["loss"].get<uint64_t>(), missing);
  const double rate = missing / n;
  std::printf(
      "[ markov4 ] pi = %.5f %.5f %.5f %.5f; rate %.5f, expected pi3 + pi4 = %.5f, "
      "4 sigma %.5f\n",
      pi[0], pi[1], pi[2], pi[3], rate, expected, kSigmas * sigma);
  EXPECT_NEAR(rate, expected, kSigmas * sigma);
}

// =============================================================================================
// 5. Delay distributions.

struct DelayCase {
  const char* name;
  DistributionKind kind;
};
constexpr DelayCase kDelayCases[] = {{"uniform", DistributionKind::kUniform},
                                     {"normal", DistributionKind::kNormal},
                                     {"pareto", DistributionKind::kPareto},
                                     {"paretonormal", DistributionKind::kParetoNormal}};
constexpr int64_t kDelayBase = 20'000'000, kDelayJitter = 4'000'000;  // 20ms, 4ms

TEST_F(ImpairmentStatisticsTest, DelayDistributionsPassKolmogorovSmirnov) {
  // Four rules (dst 5000..5003), one per distribution, 100,000 frames each, 8 flows per rule.
  // `reorder: {probability: 0%}` turns order keeping off, so every delay is the raw draw.
  UdpStreamOptions options;
  options.count = 400'000;
  options.gap_ns = 2'500;
  options.flows = 32;
  options.dst_ports = 4;
  const std::vector<Frame> input = MakeUdpFrames(options);
  std::string profile = kHeader + "impairments:\n";
  for (const DelayCase& c : kDelayCases) {
    profile += std::string("  ") + c.name +
               ": {delay: {base: 20ms, jitter: 4ms, distribution: " + c.name +
               ", correlation: 0%}, reorder: {probability: 0%}}\n";
  }
  profile += "rules:\n";
  for (size_t k = 0; k < 4; ++k) {
    profile += "  - {name: " + std::string(kDelayCases[k].name) +
               ", match: {proto: udp, dst-port: " + std::to_string(5000 + k) +
               "}, impairment: " + kDelayCases[k].name + "}\n";
  }
  ReplayResult result;
  ASSERT_NO_FATAL_FAILURE(Replay("delay", input, profile, 505, &result));
  ASSERT_EQ(result.output.size(), input.size());
  std::vector<int64_t> sample[4];
  for (size_t i = 0; i < input.size(); ++i) {
    ASSERT_EQ(result.copies[i], 1u) << i;
    sample[i % 32 % 4].push_back(static_cast<int64_t>(result.departure[i] - input[i].timestamp_ns));
  }
  // Reference samples of m = 200,000 draws each (ReferenceDelay).
  std::mt19937_64 rng(20240505);
  std::vector<int64_t> reference[4];
  for (size_t k = 0; k < 4; ++k) {
    const std::vector<int16_t> table = GenerateDistributionTable(kDelayCases[k].kind);
    for (int i = 0; i < 200'000; ++i) {
      reference[k].push_back(ReferenceDelay(rng, kDelayBase, kDelayJitter, table));
    }
  }
  for (size_t k = 0; k < 4; ++k) {
    const double d = KolmogorovSmirnov(sample[k], reference[k]);
    const double critical = KsCritical(sample[k].size(), reference[k].size());
    std::printf("[ delay ] %-12s KS D = %.5f (n %zu, m %zu), critical %.5f\n", kDelayCases[k].name,
                d, sample[k].size(), reference[k].size(), critical);
    EXPECT_LT(d, critical) << kDelayCases[k].name;
  }
  // The test has power: the normal sample against the pareto reference is rejected.
  const double wrong = KolmogorovSmirnov(sample[1], reference[2]);
  const double critical = KsCritical(sample[1].size(), reference[2].size());
  std::printf("[ delay ] normal vs pareto reference: D = %.5f, critical %.5f\n", wrong, critical);
  EXPECT_GT(wrong, critical);
  // Without order keeping jitter does reorder flows (the property the next test checks can fail).
  uint64_t inversions = 0;
  std::vector<uint64_t> last(32, 0);
  for (size_t i = 0; i < input.size(); ++i) {
    inversions += result.departure[i] < last[i % 32];
    last[i % 32] = std::max(last[i % 32], result.departure[i]);
  }
  EXPECT_GT(inversions, 1000u);
}

TEST_F(ImpairmentStatisticsTest, JitterWithoutReorderKeepsEveryFlowInOrder) {
  // 64 interleaved flows, 1 us apart (64 us within a flow), normal jitter of 2 ms: raw draws
  // would reorder most neighbours of a flow.
  UdpStreamOptions options;
  options.count = 100'000;
  options.gap_ns = 1'000;
  options.flows = 64;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string profile = kHeader +
                              "impairments:\n"
                              "  j: {delay: {base: 10ms, jitter: 2ms, distribution: normal}}\n"
                              "rules:\n"
                              "  - {name: all, match: {}, impairment: j}\n";
  ReplayResult result;
  ASSERT_NO_FATAL_FAILURE(Replay("clamp", input, profile, 606, &result));
  ASSERT_EQ(result.output.size(), input.size());
  // The draw lies in [base + jitter * min(t) / 8192, base + jitter * max(t) / 8192] (+-1 ns of
  // rounding) and the departure is max(arrival + draw, previous departure of the flow), so
  //   max(arrival + min, previous) <= departure <= max(arrival + max, previous).
  const std::vector<int16_t> table = GenerateDistributionTable(DistributionKind::kNormal);
  const auto [lo, hi] = std::minmax_element(table.begin(), table.end());
  const int64_t min_delay = 10'000'000 + 2'000'000LL * *lo / 8192 - 1;
  const int64_t max_delay = 10'000'000 + 2'000'000LL * *hi / 8192 + 1;
  std::vector<uint64_t> previous(64, 0);
  std::vector<size_t> previous_position(64, 0);
  uint64_t held_back = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    const size_t flow = i % 64;
    ASSERT_EQ(result.copies[i], 1u) << i;
    const uint64_t arrival = input[i].timestamp_ns, departure = result.departure[i];
    ASSERT_GE(departure, std::max<uint64_t>(arrival + min_delay, previous[flow])) << "frame " << i;
    ASSERT_LE(departure, std::max<uint64_t>(arrival + max_delay, previous[flow])) << "frame " << i;
    if (i >= 64) {
      // Output order within the flow is input order.
      ASSERT_GT(result.position[i], previous_position[flow]) << "frame " << i;
    }
    held_back += departure == previous[flow];
    previous[flow] = departure;
    previous_position[flow] = result.position[i];
  }
  // The clamp did act (otherwise this test would not show anything).
  std::printf("[ clamp ] %lu of %zu departures held back to their predecessor's\n", held_back,
              input.size());
  EXPECT_GT(held_back, 10'000u);
  EXPECT_EQ(Rule(result, 0)["reordered"].get<uint64_t>(), 0u);
}

// =============================================================================================
// 6. Duplicate.

TEST_F(ImpairmentStatisticsTest, DuplicateRateAndIdenticalCopies) {
  constexpr double kP = 0.05;
  UdpStreamOptions options;
  options.count = 100'000;
  options.flows = 4;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string profile = kHeader +
                              "impairments:\n"
                              "  d: {duplicate: {probability: 5%}}\n"
                              "rules:\n"
                              "  - {name: all, match: {}, impairment: d}\n";
  ReplayResult result;
  ASSERT_NO_FATAL_FAILURE(Replay("duplicate", input, profile, 707, &result));
  std::vector<std::vector<const Frame*>> copies(input.size());
  for (const Frame& frame : result.output) {
    const uint64_t index = UdpFrameIndex(frame.bytes);
    ASSERT_LT(index, input.size());
    copies[index].push_back(&frame);
  }
  uint64_t duplicated = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    ASSERT_GE(copies[i].size(), 1u) << i;
    ASSERT_LE(copies[i].size(), 2u) << i;
    for (const Frame* copy : copies[i]) ASSERT_EQ(copy->bytes, input[i].bytes) << i;
    duplicated += copies[i].size() == 2;
  }
  EXPECT_EQ(Rule(result, 0)["duplicated"].get<uint64_t>(), duplicated);
  EXPECT_EQ(result.output.size(), input.size() + duplicated);
  // Independent draws: duplicated ~ Binomial(n, p); 4 sqrt(p (1 - p) / n).
  const double rate = static_cast<double>(duplicated) / input.size();
  std::printf("[ duplicate ] rate %.5f, expected %.5f, 4 sigma %.5f\n", rate, kP,
              kSigmas * BinomialSigma(kP, input.size()));
  EXPECT_NEAR(rate, kP, kSigmas * BinomialSigma(kP, input.size()));
}

// =============================================================================================
// 7. Reorder.

// Frames that left before an earlier-arrived frame of their flow (departure strictly before the
// latest departure of the flow's earlier frames), in input order per flow.
std::vector<std::vector<size_t>> Overtakers(const ReplayResult& result, size_t count,
                                            uint32_t flows) {
  std::vector<std::vector<size_t>> overtakers(flows);
  std::vector<uint64_t> latest(flows, 0);
  for (size_t i = 0; i < count; ++i) {
    const size_t flow = i % flows;
    if (result.departure[i] < latest[flow]) overtakers[flow].push_back(i / flows);  // position
    latest[flow] = std::max(latest[flow], result.departure[i]);
  }
  return overtakers;
}

TEST_F(ImpairmentStatisticsTest, ReorderRateGapAndDisplacementBound) {
  // Three rules (dst 5000, 5001, 5002), 4 flows each, 100,000 frames per rule; frames 3.333 us
  // apart, so a rule sees one every 10 us and a flow one every 40 us: with a constant 10 ms
  // delay about 250 frames of a flow are in flight when a chosen one is sent at once.
  constexpr uint32_t kFlows = 12, kBound = 8;
  constexpr double kP = 0.25;
  UdpStreamOptions options;
  options.count = 300'000;
  options.gap_ns = 3'333;
  options.flows = kFlows;
  options.dst_ports = 3;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string profile =
      kHeader +
      "impairments:\n"
      "  gap1: {delay: {base: 10ms}, reorder: {probability: 25%, gap: 1}}\n"
      "  gap5: {delay: {base: 10ms}, reorder: {probability: 25%, gap: 5}}\n"
      "  bound: {delay: {base: 10ms}, reorder: {probability: 25%, max-displacement: 8}}\n"
      "rules:\n"
      "  - {name: gap1, match: {proto: udp, dst-port: 5000}, impairment: gap1}\n"
      "  - {name: gap5, match: {proto: udp, dst-port: 5001}, impairment: gap5}\n"
      "  - {name: bound, match: {proto: udp, dst-port: 5002}, impairment: bound}\n";
  ReplayResult result;
  ASSERT_NO_FATAL_FAILURE(Replay("reorder", input, profile, 808, &result));
  ASSERT_EQ(result.output.size(), input.size());
  const std::vector<std::vector<size_t>> overtakers = Overtakers(result, input.size(), kFlows);
  // With a constant delay and no rate, a chosen frame leaves exactly at its arrival and every
  // other frame exactly 10 ms later: the capture tells which frames were chosen.
  std::vector<std::vector<size_t>> chosen(kFlows);
  for (size_t i = 0; i < input.size(); ++i) {
    const uint64_t delay = result.departure[i] - input[i].timestamp_ns;
    if (i % kFlows % 3 != 2) {
      ASSERT_TRUE(delay == 0 || delay == 10'000'000) << "frame " << i;
    }
    if (delay == 0) chosen[i % kFlows].push_back(i / kFlows);
  }
  uint64_t overtaking[3] = {0, 0, 0}, chosen_count[3] = {0, 0, 0};
  for (uint32_t flow = 0; flow < kFlows; ++flow) {
    overtaking[flow % 3] += overtakers[flow].size();
    chosen_count[flow % 3] += chosen[flow].size();
  }
  const double n = input.size() / 3.0;

  // The counter counts the frames the model chose to go ahead (rule_counters.h, docs).
  EXPECT_EQ(Rule(result, 0)["reordered"].get<uint64_t>(), chosen_count[0]);
  EXPECT_EQ(Rule(result, 1)["reordered"].get<uint64_t>(), chosen_count[1]);
  // A chosen frame overtakes every frame of its flow still queued, so the frames that left
  // before an earlier-arrived frame of their flow are exactly the chosen frames, except chosen
  // frames with nothing queued ahead: here only the first frames of a flow when all frames
  // before them in the flow were chosen too (any unchosen frame 40 us earlier is still queued).
  for (uint32_t flow = 0; flow < kFlows; flow += 3) {
    std::vector<size_t> expected;
    for (size_t k = 0; k < chosen[flow].size(); ++k) {
      if (chosen[flow][k] != k) expected.push_back(chosen[flow][k]);  // k: all before chosen
    }
    EXPECT_EQ(overtakers[flow], expected) << "flow " << flow;
  }
  std::printf(
      "[ reorder ] gap 1: stats reordered %lu, chosen %lu, left before an earlier frame "
      "%lu\n",
      Rule(result, 0)["reordered"].get<uint64_t>(), chosen_count[0], overtaking[0]);

  // gap 1: every frame is a candidate, chosen with p independently: chosen ~ Binomial(n, p),
  // |rate - p| <= 4 sqrt(p (1 - p) / n).
  const double rate = chosen_count[0] / n;
  std::printf("[ reorder ] gap 1: rate %.5f, expected %.5f, 4 sigma %.5f\n", rate, kP,
              kSigmas * BinomialSigma(kP, n));
  EXPECT_NEAR(rate, kP, kSigmas * BinomialSigma(kP, n));

  // gap 5 (netem): after a chosen frame the next gap - 1 = 4 frames of the flow are never
  // candidates; from then on each frame is chosen with p. So the distance D between consecutive
  // chosen frames of a flow is 4 + G, G ~ Geometric(p) on {1, 2, ...}: min 5, mean 4 + 1/p,
  // variance (1 - p) / p^2, and the first chosen frame of a flow is at position >= 4.
  // Mean of k distances: 4 sqrt((1 - p) / p^2 / k). P(D = 5) = p: 4 sqrt(p (1 - p) / k).
  double distance_sum = 0, distances = 0, shortest = 0;
  uint64_t min_distance = UINT64_MAX;
  for (uint32_t flow = 1; flow < kFlows; flow += 3) {
    const std::vector<size_t>& picks = chosen[flow];
    ASSERT_FALSE(picks.empty());
    EXPECT_GE(picks.front(), 4u) << "flow " << flow;
    EXPECT_EQ(overtakers[flow], picks) << "flow " << flow;  // positions >= 4: always overtake
    for (size_t k = 1; k < picks.size(); ++k) {
      const uint64_t d = picks[k] - picks[k - 1];
      min_distance = std::min(min_distance, d);
      distance_sum += d;
      distances += 1;
      shortest += d == 5;
    }
  }
  EXPECT_EQ(min_distance, 5u);
  const double mean_distance = distance_sum / distances;
  const double sigma_mean = std::sqrt((1 - kP) / (kP * kP) / distances);
  std::printf(
      "[ reorder ] gap 5: %lu chosen, mean distance %.4f, expected %.4f, 4 sigma %.4f; "
      "P(D = 5) %.4f, 4 sigma %.4f\n",
      chosen_count[1], mean_distance, 4 + 1 / kP, kSigmas * sigma_mean, shortest / distances,
      kSigmas * BinomialSigma(kP, distances));
  EXPECT_NEAR(mean_distance, 4 + 1 / kP, kSigmas * sigma_mean);
  EXPECT_NEAR(shortest / distances, kP, kSigmas * BinomialSigma(kP, distances));

  // max-displacement 8: within each flow |output position - input position| <= 8 for every
  // frame, reordering still happens, and the bound is reached (a chosen frame would otherwise
  // overtake ~250 frames).
  uint64_t moved = 0;
  int64_t max_displacement = 0;
  for (uint32_t flow = 2; flow < kFlows; flow += 3) {
    std::vector<std::pair<size_t, size_t>> by_output;  // (output position, input position)
    for (size_t i = flow; i < input.size(); i += kFlows) {
      by_output.push_back({result.position[i], i / kFlows});
    }
    std::sort(by_output.begin(), by_output.end());
    for (size_t out = 0; out < by_output.size(); ++out) {
      const int64_t displacement =
          static_cast<int64_t>(out) - static_cast<int64_t>(by_output[out].second);
      ASSERT_LE(std::abs(displacement), kBound)
          << "flow " << flow << " input position " << by_output[out].second;
      max_displacement = std::max<int64_t>(max_displacement, std::abs(displacement));
      moved += displacement != 0;
    }
  }
  std::printf("[ reorder ] bound 8: %lu frames displaced, max |displacement| %ld, reordered %lu\n",
              moved, max_displacement, Rule(result, 2)["reordered"].get<uint64_t>());
  EXPECT_GT(moved, 0u);
  EXPECT_EQ(max_displacement, kBound);
  // Chosen at the gap-1 rate, so the counter obeys the same binomial bound.
  EXPECT_NEAR(Rule(result, 2)["reordered"].get<uint64_t>() / n, kP, kSigmas * BinomialSigma(kP, n));
}

// =============================================================================================
// 8. Corruption.

int PopCount(uint8_t x) { return __builtin_popcount(x); }

TEST_F(ImpairmentStatisticsTest, CorruptionFlipsBitsAtTheConfiguredRates) {
  // Three rules, 100,000 frames of 128 bytes each, no delay (output order = input order):
  //   dst 5000: probability 5%;  dst 5001: ber 1e-4;  dst 5002: probability 20%, fix-checksums.
  constexpr double kP = 0.05, kBer = 1e-4, kFixP = 0.20;
  UdpStreamOptions options;
  options.count = 300'000;
  options.gap_ns = 3'000;
  options.flows = 3;
  options.dst_ports = 3;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string profile =
      kHeader +
      "impairments:\n"
      "  p: {corrupt: {probability: 5%}}\n"
      "  ber: {corrupt: {ber: 0.0001}}\n"
      "  fix: {corrupt: {probability: 20%, fix-checksums: true}}\n"
      "rules:\n"
      "  - {name: p, match: {proto: udp, dst-port: 5000}, impairment: p}\n"
      "  - {name: ber, match: {proto: udp, dst-port: 5001}, impairment: ber}\n"
      "  - {name: fix, match: {proto: udp, dst-port: 5002}, impairment: fix}\n";
  ReplayResult result;
  ASSERT_NO_FATAL_FAILURE(Replay("corrupt", input, profile, 909, &result));
  ASSERT_EQ(result.output.size(), input.size());
  uint64_t corrupted[3] = {0, 0, 0}, flipped[3] = {0, 0, 0}, payload_bits[3] = {0, 0, 0};
  uint64_t detected = 0;      // rule 0: corrupted frames with a failing checksum
  uint64_t position_sum = 0;  // rule 0: bit positions past the Ethernet header
  uint64_t fix_checked_ip = 0, fix_checked_udp = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    const size_t rule = i % 3;
    const std::vector<uint8_t>& in = input[i].bytes;
    const std::vector<uint8_t>& out = result.output[i].bytes;  // same position: no delay
    ASSERT_EQ(out.size(), in.size());
    ASSERT_EQ(result.output[i].timestamp_ns, input[i].timestamp_ns);
    // fix-checksums rewrites the IPv4 checksum (bytes 24-25) and the UDP checksum where the
    // (possibly corrupted) IHL puts it, of frames whose IPv4 header still parses: not flips.
    const size_t out_ihl = (out[14] & 0x0F) * 4u;
    const bool parses = (out[14] >> 4) == 4 && out_ihl >= 20;
    const size_t udp_checksum = 14 + out_ihl + 6;
    int bits = 0;
    size_t last_bit = 0;
    for (size_t b = 0; b < in.size(); ++b) {
      const uint8_t x = in[b] ^ out[b];
      if (x == 0) continue;
      if (rule == 2 && parses &&
          (b == 24 || b == 25 || b == udp_checksum || b == udp_checksum + 1)) {
        continue;
      }
      ASSERT_GE(b, 14u) << "frame " << i << ": the Ethernet header was changed";
      bits += PopCount(x);
      last_bit = b * 8 + static_cast<size_t>(__builtin_clz(static_cast<unsigned>(x)) - 24);
    }
    payload_bits[rule] += (in.size() - 14) * 8;
    flipped[rule] += bits;
    corrupted[rule] += bits > 0;
    if (rule == 0 && bits > 0) {
      ASSERT_EQ(bits, 1) << "frame " << i << ": probability mode flips exactly one bit";
      position_sum += last_bit - 14 * 8;
      detected += !(Ipv4HeaderChecksumValid(out) && UdpChecksumValid(out));
    }
    if (rule == 2) {
      ASSERT_LE(bits, 1) << "frame " << i;
      // After fix-checksums, the IPv4 header checksum verifies whenever the header still parses
      // (version 4, IHL >= 5; a flipped IHL above 5 moves the header's end, and the checksums are
      // then recomputed for that reading of the frame, as a receiver would read it). The UDP
      // checksum verifies unless the flip changed what decides whether and over what it is
      // computed: version, IHL below 5, total length, fragment offset or protocol (corruptor.h
      // leaves such frames as they are). Skipped: 4 + 2 + 16 + 13 + 8 = 43 of the 912 bits.
      const bool l4_scope_intact = parses && out[16] == in[16] && out[17] == in[17] &&
                                   (out[20] & 0x1F) == (in[20] & 0x1F) && out[21] == in[21] &&
                                   out[23] == in[23];
      if (parses) {
        ++fix_checked_ip;
        ASSERT_TRUE(Ipv4HeaderChecksumValid(out)) << "frame " << i;
      }
      if (l4_scope_intact) {
        ++fix_checked_udp;
        ASSERT_TRUE(UdpChecksumValid(out)) << "frame " << i;
      }
    }
  }
  const double n = input.size() / 3.0;
  // Probability mode: corrupted ~ Binomial(n, p): 4 sqrt(p (1 - p) / n); one bit each, counted.
  EXPECT_EQ(Rule(result, 0)["corrupted"].get<uint64_t>(), corrupted[0]);
  EXPECT_EQ(Rule(result, 0)["bits_flipped"].get<uint64_t>(), flipped[0]);
  std::printf("[ corrupt ] probability: rate %.5f, expected %.5f, 4 sigma %.5f\n", corrupted[0] / n,
              kP, kSigmas * BinomialSigma(kP, n));
  EXPECT_NEAR(corrupted[0] / n, kP, kSigmas * BinomialSigma(kP, n));
  // Every single-bit flip past the Ethernet header breaks a checksum (all those bytes are covered
  // by the IPv4 or the UDP checksum), so the verifier used for fix-checksums can fail.
  EXPECT_EQ(detected, corrupted[0]);
  // The flipped bit is uniform over the M = 114 * 8 bits past the header: the mean position of k
  // flips is (M - 1) / 2 within 4 sqrt((M^2 - 1) / 12 / k).
  const double m_bits = (128 - 14) * 8.0, k = static_cast<double>(corrupted[0]);
  EXPECT_NEAR(position_sum / k, (m_bits - 1) / 2,
              kSigmas * std::sqrt((m_bits * m_bits - 1) / 12 / k));

  // ber mode: every bit past the Ethernet header flips independently with probability ber, so
  // flips ~ Binomial(N bits, ber): |flips / N - ber| <= 4 sqrt(ber (1 - ber) / N). A frame of
  // B = 912 such bits is corrupted with q = 1 - (1 - ber)^B, independently: 4 sqrt(q (1-q) / n).
  EXPECT_EQ(Rule(result, 1)["bits_flipped"].get<uint64_t>(), flipped[1]);
  EXPECT_EQ(Rule(result, 1)["corrupted"].get<uint64_t>(), corrupted[1]);
  const double bits_total = static_cast<double>(payload_bits[1]);
  const double ber = flipped[1] / bits_total;
  std::printf("[ corrupt ] ber: %lu flips in %.0f bits = %.4g, expected %.4g, 4 sigma %.3g\n",
              flipped[1], bits_total, ber, kBer, kSigmas * BinomialSigma(kBer, bits_total));
  EXPECT_NEAR(ber, kBer, kSigmas * BinomialSigma(kBer, bits_total));
  const double q = 1 - std::pow(1 - kBer, m_bits);
  EXPECT_NEAR(corrupted[1] / n, q, kSigmas * BinomialSigma(q, n));

  // fix-checksums: a flip that lands in one of the 32 checksum bits is undone by the
  // recomputation, so of the counted frames a share q = 32 / 912 looks untouched in the capture:
  // hidden ~ Binomial(counted, q), 4 sqrt(counted q (1 - q)). The counter is Binomial(n, p).
  const double counted = Rule(result, 2)["corrupted"].get<double>();
  const double hidden_q = 32.0 / m_bits;
  EXPECT_LE(corrupted[2], counted);
  EXPECT_NEAR(counted - corrupted[2], counted * hidden_q,
              kSigmas * std::sqrt(counted * hidden_q * (1 - hidden_q)));
  EXPECT_NEAR(counted / n, kFixP, kSigmas * BinomialSigma(kFixP, n));
  // The UDP check was skipped exactly for flips in the 43 scope bits: skipped ~ Binomial(n, q)
  // with q = p * 43 / 912 (and the IPv4 check for 6 bits: version and the IHL bits taking it
  // below 5).
  const double skip_q = kFixP * 43 / m_bits;
  EXPECT_NEAR(n - fix_checked_udp, n * skip_q, kSigmas * std::sqrt(n * skip_q * (1 - skip_q)));
  const double ip_skip_q = kFixP * 6 / m_bits;
  EXPECT_NEAR(n - fix_checked_ip, n * ip_skip_q,
              kSigmas * std::sqrt(n * ip_skip_q * (1 - ip_skip_q)));
  std::printf("[ corrupt ] fix-checksums: %lu corrupted; IPv4 verified on %lu, UDP on %lu frames\n",
              corrupted[2], fix_checked_ip, fix_checked_udp);
}

// =============================================================================================
// 9. Rate.

TEST_F(ImpairmentStatisticsTest, RateLimitThroughputQueueAndEcn) {
  // 1000-byte ECT(0) frames every 50 us (160 Mbit/s offered, 163.2 with 20 B overhead) into a
  // 100 Mbit/s link with a 100-frame queue and ECN marking from 50 frames: the queue saturates.
  constexpr uint64_t kBandwidth = 100'000'000, kLimit = 100, kEcn = 50;
  constexpr int64_t kOverhead = 20;
  UdpStreamOptions options;
  options.count = 100'000;
  options.gap_ns = 50'000;
  options.frame_size = 1000;
  options.ect0 = true;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string profile = kHeader +
                              "impairments:\n"
                              "  r: {rate: {bandwidth: 100mbit, overhead: 20B, queue-limit: "
                              "100pkt, ecn-threshold: 50pkt}}\n"
                              "rules:\n"
                              "  - {name: all, match: {}, impairment: r}\n";
  ReplayResult result;
  ASSERT_NO_FATAL_FAILURE(Replay("rate", input, profile, 1010, &result));

  // Independent simulation of the link in exact integer ns (a 1020-byte frame takes exactly
  // 81,600 ns at 100 Mbit/s): a FIFO whose frames finish at max(arrival, previous finish) +
  // serialisation; a frame arriving while `limit` frames have not finished (finish > arrival)
  // is dropped; one arriving while >= threshold have not finished is marked.
  std::vector<uint64_t> finish;  // of admitted frames, in order
  size_t head = 0;
  uint64_t link_free = 0;
  std::vector<int> verdict(input.size());  // 0 dropped, 1 sent, 2 marked
  std::vector<uint64_t> expected_finish(input.size(), 0);
  int64_t first_drop = -1;
  for (size_t i = 0; i < input.size(); ++i) {
    const uint64_t arrival = input[i].timestamp_ns;
    while (head < finish.size() && finish[head] <= arrival) ++head;
    const size_t queued = finish.size() - head;
    if (queued >= kLimit) {
      if (first_drop < 0) first_drop = static_cast<int64_t>(i);
      verdict[i] = 0;
      continue;
    }
    verdict[i] = queued >= kEcn ? 2 : 1;
    const uint64_t wire_ns = (input[i].bytes.size() + kOverhead) * 8 * 1'000'000'000 / kBandwidth;
    link_free = std::max(link_free, arrival) + wire_ns;
    finish.push_back(link_free);
    expected_finish[i] = link_free;
  }
  ASSERT_GT(first_drop, 0);

  uint64_t dropped = 0, marked = 0, first_observed_drop = UINT64_MAX;
  uint64_t bits = 0, departed = 0, first_departure = UINT64_MAX, last_departure = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    ASSERT_LE(result.copies[i], 1u);
    if (result.copies[i] == 0) {
      ++dropped;
      first_observed_drop = std::min<uint64_t>(first_observed_drop, i);
      EXPECT_EQ(verdict[i], 0) << "frame " << i << " dropped, the simulation admits it";
      continue;
    }
    EXPECT_NE(verdict[i], 0) << "frame " << i << " admitted, the simulation drops it";
    EXPECT_EQ(result.departure[i], expected_finish[i]) << "frame " << i;
    ++departed;
    first_departure = std::min(first_departure, result.departure[i]);
    last_departure = std::max(last_departure, result.departure[i]);
    if (result.departure[i] != first_departure) bits += (input[i].bytes.size() + kOverhead) * 8;
  }
  for (const Frame& frame : result.output) {
    const uint8_t ecn = frame.bytes[15] & 0x03;
    ASSERT_TRUE(ecn == 2 || ecn == 3);
    ASSERT_TRUE(Ipv4HeaderChecksumValid(frame.bytes));
    ASSERT_TRUE(UdpChecksumValid(frame.bytes));  // the UDP checksum does not cover the TOS byte
    const uint64_t index = UdpFrameIndex(frame.bytes);
    EXPECT_EQ(ecn == 3, verdict[index] == 2) << "frame " << index;
    marked += ecn == 3;
  }
  // The first drop is exactly where the simulated queue first holds `limit` frames.
  EXPECT_EQ(static_cast<int64_t>(first_observed_drop), first_drop);
  EXPECT_EQ(Rule(result, 0)["dropped"]["queue"].get<uint64_t>(), dropped);
  EXPECT_EQ(Rule(result, 0)["ecn_marked"].get<uint64_t>(), marked);
  EXPECT_GT(marked, 0u);
  EXPECT_GT(dropped, 0u);

  // Throughput: the link is busy from the first departure to the last, carrying every frame but
  // the first (its last bit marks the start) back to back. Errors: the fixed-point bytes-to-time
  // factor (< 2^-24 ns per byte) and the rounding up of each finish to a ns (not cumulative),
  // so the relative error is below 1e-6; the contract's 1% is checked with that much margin.
  const double throughput = bits * 1e9 / static_cast<double>(last_departure - first_departure);
  std::printf(
      "[ rate ] %lu departed, %lu dropped (first at %ld), %lu marked; throughput %.1f "
      "bit/s\n",
      departed, dropped, first_drop, marked, throughput);
  EXPECT_NEAR(throughput, kBandwidth, kBandwidth * 0.01);
  EXPECT_NEAR(throughput, kBandwidth, kBandwidth * 1e-6);

  // Queue occupancy from the capture alone: frames with arrival <= t < departure, evaluated at
  // every arrival of an admitted frame (where it can only grow), never exceeds the limit, and
  // reaches it.
  std::vector<std::pair<uint64_t, int>> events;
  for (size_t i = 0; i < input.size(); ++i) {
    if (result.copies[i] == 0) continue;
    events.push_back({input[i].timestamp_ns, +1});
    events.push_back({result.departure[i], -1});
  }
  // At equal times departures first: a frame leaving at t is no longer in the queue at t.
  std::sort(events.begin(), events.end());
  int64_t occupancy = 0, peak = 0;
  for (const auto& [time, delta] : events) {
    occupancy += delta;
    peak = std::max(peak, occupancy);
  }
  EXPECT_EQ(peak, static_cast<int64_t>(kLimit));
}

// =============================================================================================
// 10. Stall.

TEST_F(ImpairmentStatisticsTest, StallHoldsThenReleasesInOrderWithinItsLimit) {
  // Two rules: dst 5000 stalls for 50 ms every 400 ms from 100 ms (windows at 100, 500, 900 ms
  // after the first frame), holding at most 1000 frames per window; dst 5001 has a constant
  // 1 ms delay and must not notice. 100,000 frames 10 us apart (1 s), alternating.
  constexpr uint64_t kStart = 100'000'000, kFor = 50'000'000, kEvery = 400'000'000;
  constexpr uint64_t kLimit = 1000;
  UdpStreamOptions options;
  options.count = 100'000;
  options.gap_ns = 10'000;
  options.flows = 2;
  options.dst_ports = 2;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string profile =
      kHeader +
      "impairments:\n"
      "  s: {stall: {for: 50ms, start: 100ms, every: 400ms, limit: 1000pkt}}\n"
      "  d: {delay: {base: 1ms}}\n"
      "rules:\n"
      "  - {name: stalled, match: {proto: udp, dst-port: 5000}, impairment: s}\n"
      "  - {name: other, match: {proto: udp, dst-port: 5001}, impairment: d}\n";
  ReplayResult result;
  ASSERT_NO_FATAL_FAILURE(Replay("stall", input, profile, 1111, &result));
  const uint64_t epoch = input.front().timestamp_ns;
  auto window_of = [&](uint64_t t) -> int64_t {  // the window t falls in, or -1
    const uint64_t since = t - epoch;
    if (since < kStart) return -1;
    const uint64_t k = (since - kStart) / kEvery;
    return since - kStart - k * kEvery < kFor ? static_cast<int64_t>(k) : -1;
  };
  std::map<int64_t, uint64_t> arrived_in_window;
  uint64_t expected_drops = 0, held = 0;
  size_t last_position = 0;
  for (size_t i = 0; i < input.size(); ++i) {
    const uint64_t arrival = input[i].timestamp_ns;
    if (i % 2 == 1) {  // unaffected rule
      ASSERT_EQ(result.copies[i], 1u);
      ASSERT_EQ(result.departure[i], arrival + 1'000'000) << "frame " << i;
      continue;
    }
    const int64_t window = window_of(arrival);
    if (window < 0) {
      ASSERT_EQ(result.copies[i], 1u) << "frame " << i;
      ASSERT_EQ(result.departure[i], arrival) << "frame " << i;
      continue;
    }
    const uint64_t seen = ++arrived_in_window[window];
    if (seen > kLimit) {  // beyond the limit of this window: dropped
      ASSERT_EQ(result.copies[i], 0u) << "frame " << i;
      ++expected_drops;
      continue;
    }
    ASSERT_EQ(result.copies[i], 1u) << "frame " << i;
    // Released at the window end, in arrival order.
    const uint64_t end = epoch + kStart + window * kEvery + kFor;
    ASSERT_EQ(result.departure[i], end) << "frame " << i;
    if (seen > 1) {
      ASSERT_GT(result.position[i], last_position) << "frame " << i;
    }
    last_position = result.position[i];
    ++held;
  }
  // Nothing of the stalled rule leaves inside a window.
  for (const Frame& frame : result.output) {
    if (UdpDestinationPort(frame.bytes) != 5000) continue;
    ASSERT_LT(window_of(frame.timestamp_ns), 0) << "left at " << frame.timestamp_ns - epoch;
  }
  EXPECT_EQ(arrived_in_window.size(), 3u);
  EXPECT_EQ(expected_drops, 3 * (2500 - kLimit));  // 2,500 frames of the rule per 50 ms window
  EXPECT_EQ(Rule(result, 0)["dropped"]["stall-limit"].get<uint64_t>(), expected_drops);
  EXPECT_EQ(Rule(result, 0)["dropped"]["total"].get<uint64_t>(), expected_drops);
  EXPECT_EQ(Rule(result, 1)["dropped"]["total"].get<uint64_t>(), 0u);
  std::printf("[ stall ] %lu held and released, %lu dropped past the limit\n", held,
              expected_drops);
}

// =============================================================================================
// 11. Determinism.

TEST_F(ImpairmentStatisticsTest, SameSeedIsByteIdenticalOtherSeedDiffers) {
  UdpStreamOptions options;
  options.count = 100'000;
  options.gap_ns = 2'000;
  options.flows = 16;
  const std::vector<Frame> input = MakeUdpFrames(options);
  const std::string profile =
      kHeader +
      "impairments:\n"
      "  all: {delay: {base: 2ms, jitter: 1ms, distribution: paretonormal, correlation: 25%},\n"
      "        loss: {model: gilbert-elliott, p: 1%, r: 30%},\n"
      "        duplicate: {probability: 1%}, reorder: {probability: 5%, gap: 2},\n"
      "        corrupt: {probability: 1%}, rate: {bandwidth: 1gbit, overhead: 20B}}\n"
      "rules:\n"
      "  - {name: all, match: {}, impairment: all}\n";
  ReplayResult first, second, other;
  std::string out_first, out_second, out_other;
  ASSERT_NO_FATAL_FAILURE(Replay("det1", input, profile, 1212, &first, &out_first));
  ASSERT_NO_FATAL_FAILURE(Replay("det2", input, profile, 1212, &second, &out_second));
  ASSERT_NO_FATAL_FAILURE(Replay("det3", input, profile, 1213, &other, &out_other));
  // Compared as booleans: gtest's diff of two multi-megabyte strings would not finish.
  const std::string bytes_first = ReadFileBytes(out_first),
                    bytes_second = ReadFileBytes(out_second);
  const std::string bytes_other = ReadFileBytes(out_other);
  ASSERT_GT(bytes_first.size(), 100'000u * 128);
  const auto differ = std::mismatch(bytes_first.begin(), bytes_first.end(), bytes_second.begin(),
                                    bytes_second.end());
  EXPECT_TRUE(bytes_first == bytes_second)
      << "same seed, outputs differ from byte " << (differ.first - bytes_first.begin());
  EXPECT_TRUE(first.stats == second.stats) << first.stats.dump() << "\n" << second.stats.dump();
  EXPECT_FALSE(bytes_first == bytes_other) << "another seed gives the same output";
  EXPECT_NE(first.stats["rules"][0], other.stats["rules"][0]);
}

}  // namespace
}  // namespace faultline
