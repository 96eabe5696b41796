// How much of a CPU a busy-polling thread really gets: spins on one CPU reading the TSC and
// records every gap between two reads longer than a threshold (the thread was not running, or
// the CPU was not: interrupts, the kernel's tick, another task, the hypervisor's steal).
//
// Departure lateness (issue 14, target 3) is bounded below by these gaps: a frame due while the
// worker is away leaves when it is back, late by what is left of the gap. For frames due at
// instants spread evenly over the run, the share late by at least L is
//   P(lateness >= L) = sum over gaps g > L of (g - L), divided by the run's length,
// so the gaps alone predict a lateness tail (p99, p99.9) that no scheduler on this CPU can beat;
// bench/RESULTS.md compares it with what bench/lateness_bench measures.
//
// Usage: cpu_gaps [seconds, default 10] [cpu, default 1] [threshold ns, default 1000]
#include <sched.h>
#include <x86intrin.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

namespace {

uint64_t MonotonicNs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<uint64_t>(now.tv_nsec);
}

// The share of instants that fall at least `late_ns` before the end of a gap.
double ShareLateBy(const std::vector<double>& gaps_ns, double late_ns, double run_ns) {
  double sum = 0;
  for (double gap : gaps_ns) {
    if (gap > late_ns) sum += gap - late_ns;
  }
  return sum / run_ns;
}

// The lateness exceeded by `share` of the instants (0 if the gaps cannot make that many late).
double Quantile(const std::vector<double>& gaps_ns, double share, double run_ns) {
  double low = 0, high = gaps_ns.empty() ? 0 : *std::max_element(gaps_ns.begin(), gaps_ns.end());
  if (ShareLateBy(gaps_ns, 0, run_ns) < share) return 0;
  for (int step = 0; step < 60; ++step) {
    const double middle = (low + high) / 2;
    (ShareLateBy(gaps_ns, middle, run_ns) >= share ? low : high) = middle;
  }
  return low;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10;
  const int cpu = argc > 2 ? std::atoi(argv[2]) : 1;
  const double threshold_ns = argc > 3 ? std::atof(argv[3]) : 1000;
  if (seconds <= 0 || cpu < 0 || threshold_ns <= 0) {
    std::fprintf(stderr, "usage: cpu_gaps [seconds > 0] [cpu] [threshold ns > 0]\n");
    return 2;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) {
    std::fprintf(stderr, "cpu_gaps: cannot run on CPU %d\n", cpu);
    return 1;
  }
  // The TSC rate, from a short calibration against CLOCK_MONOTONIC.
  const uint64_t calibrate_ns = MonotonicNs();
  const uint64_t calibrate_tsc = __rdtsc();
  while (MonotonicNs() - calibrate_ns < 100'000'000) {
  }
  const double ticks_per_ns = static_cast<double>(__rdtsc() - calibrate_tsc) /
                              static_cast<double>(MonotonicNs() - calibrate_ns);
  const auto threshold = static_cast<uint64_t>(threshold_ns * ticks_per_ns);
  const auto run_ticks = static_cast<uint64_t>(seconds * 1e9 * ticks_per_ns);

  std::vector<uint64_t> gaps;  // in ticks
  gaps.reserve(1 << 20);
  const uint64_t start = __rdtsc();
  uint64_t previous = start;
  for (;;) {
    const uint64_t now = __rdtsc();
    if (now - previous > threshold && gaps.size() < gaps.capacity()) gaps.push_back(now - previous);
    previous = now;
    if (now - start >= run_ticks) break;
  }
  const double run_ns = static_cast<double>(previous - start) / ticks_per_ns;

  std::vector<double> gaps_ns;
  double away_ns = 0;
  for (uint64_t gap : gaps) {
    gaps_ns.push_back(static_cast<double>(gap) / ticks_per_ns);
    away_ns += gaps_ns.back();
  }
  std::sort(gaps_ns.begin(), gaps_ns.end());
  std::printf(
      "cpu_gaps: CPU %d for %.1f s (TSC %.3f GHz), gaps over %.0f ns: %zu, %.3f%% of the time\n",
      cpu, run_ns / 1e9, ticks_per_ns, threshold_ns, gaps_ns.size(), 100 * away_ns / run_ns);
  for (double at_least : {1e3, 1e4, 5e4, 1e5, 1e6, 1e7}) {
    if (at_least < threshold_ns) continue;
    const auto first = std::lower_bound(gaps_ns.begin(), gaps_ns.end(), at_least);
    double sum = 0;
    for (auto it = first; it != gaps_ns.end(); ++it) sum += *it;
    std::printf("  gaps >= %8.0f us: %8zu, %10.3f ms in all\n", at_least / 1e3,
                static_cast<size_t>(gaps_ns.end() - first), sum / 1e6);
  }
  if (!gaps_ns.empty()) {
    std::printf("  longest gap %.1f us; median gap %.1f us\n", gaps_ns.back() / 1e3,
                gaps_ns[gaps_ns.size() / 2] / 1e3);
  }
  // What a perfect scheduler on this CPU would still show, for frames due evenly over time.
  const double p99 = Quantile(gaps_ns, 0.01, run_ns), p999 = Quantile(gaps_ns, 0.001, run_ns);
  std::printf(
      "RESULT gap_share_percent=%.4f predicted_lateness_p99_ns=%.0f "
      "predicted_lateness_p999_ns=%.0f\n",
      100 * away_ns / run_ns, p99, p999);
  return 0;
}
