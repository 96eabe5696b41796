// The trace generator's random draws (normal quantiles, exponential and lognormal lengths) and
// the merging of overlapping failures of one target.
#include <algorithm>
#include <cmath>
#include <vector>

#include "control/trace/trace_generator.h"

namespace faultline {

double InverseNormalCdf(double p) {
  // P. J. Acklam, "An algorithm for computing the inverse normal cumulative distribution
  // function" (2003): rational approximations in a central region and the two tails.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  if (p < kLow) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - kLow) {
    const double q = std::sqrt(-2 * std::log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double UniformOpen(Rng& rng) { return (static_cast<double>(rng.Next() >> 11) + 0.5) * 0x1.0p-53; }

double ExponentialDraw(Rng& rng) { return -std::log(UniformOpen(rng)); }

double LognormalDraw(Rng& rng, double median, double sigma) {
  return median * std::exp(sigma * InverseNormalCdf(UniformOpen(rng)));
}

std::vector<Interval> MergeIntervals(std::vector<Interval> intervals) {
  std::sort(intervals.begin(), intervals.end(), [](const Interval& x, const Interval& y) {
    return x.start_us != y.start_us ? x.start_us < y.start_us : x.end_us < y.end_us;
  });
  std::vector<Interval> merged;
  for (const Interval& interval : intervals) {
    if (!merged.empty() && interval.start_us <= merged.back().end_us) {
      merged.back().end_us = std::max(merged.back().end_us, interval.end_us);
      merged.back().merged += interval.merged;
    } else {
      merged.push_back(interval);
    }
  }
  return merged;
}

}  // namespace faultline
