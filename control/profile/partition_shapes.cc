#include "control/profile/partition_shapes.h"

#include <algorithm>
#include <cassert>

namespace faultline {

const std::string_view kPartitionShapeNames[4] = {"halves", "majority", "majorities-ring",
                                                  "bridge"};

namespace {

size_t Index(PartitionShape shape) { return static_cast<size_t>(shape); }

// majorities-ring: the majority m and the ring distance k each node still sees. The 2k + 1 nodes
// within distance k are at least m (so a majority), and fewer than n (so the sets, arcs centred
// on different nodes, are pairwise distinct); both hold for every n >= 4.
struct Ring {
  size_t majority, reach;
};
Ring RingOf(size_t n) {
  const size_t majority = n / 2 + 1;
  const size_t reach = majority / 2;  // ceil((majority - 1) / 2)
  assert(2 * reach + 1 >= majority && 2 * reach + 1 < n);
  return {majority, reach};
}

}  // namespace

std::optional<PartitionShape> PartitionShapeFromName(std::string_view name) {
  for (size_t i = 0; i < std::size(kPartitionShapeNames); ++i) {
    if (kPartitionShapeNames[i] == name) return static_cast<PartitionShape>(i);
  }
  return std::nullopt;
}

std::string_view PartitionShapeName(PartitionShape shape) {
  return kPartitionShapeNames[Index(shape)];
}

size_t MinimumNodes(PartitionShape shape) {
  switch (shape) {
    case PartitionShape::kHalves:
      return 2;
    case PartitionShape::kMajority:
    case PartitionShape::kBridge:
      return 3;
    case PartitionShape::kMajoritiesRing:
      return 4;
  }
  return 0;
}

std::string_view DescribePartitionShape(PartitionShape shape) {
  switch (shape) {
    case PartitionShape::kHalves:
      return "the first n/2 nodes against the rest, cut both ways";
    case PartitionShape::kMajority:
      return "the first n/2+1 nodes (a majority) against the rest, cut both ways";
    case PartitionShape::kMajoritiesRing:
      return "nodes on a ring, each sees its nearest neighbours (a majority, itself included) "
             "and no two see the same nodes";
    case PartitionShape::kBridge:
      return "node n/2 bridges the nodes before it and the nodes after it, which are cut from "
             "each other both ways";
  }
  return "";
}

bool ShapeCuts(PartitionShape shape, size_t n, size_t i, size_t j) {
  if (i == j) return false;
  switch (shape) {
    case PartitionShape::kHalves:
      return (i < n / 2) != (j < n / 2);
    case PartitionShape::kMajority:
      return (i < n / 2 + 1) != (j < n / 2 + 1);
    case PartitionShape::kMajoritiesRing: {
      const size_t gap = i > j ? i - j : j - i;
      return std::min(gap, n - gap) > RingOf(n).reach;
    }
    case PartitionShape::kBridge: {
      const size_t bridge = n / 2;
      return (i < bridge && j > bridge) || (i > bridge && j < bridge);
    }
  }
  return false;
}

std::vector<std::pair<size_t, size_t>> PartitionShapeCuts(PartitionShape shape, size_t n) {
  std::vector<std::pair<size_t, size_t>> cuts;
  if (n < MinimumNodes(shape)) return cuts;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      if (ShapeCuts(shape, n, i, j)) cuts.emplace_back(i, j);
    }
  }
  return cuts;
}

size_t PartitionShapeCutCount(PartitionShape shape, size_t n) {
  if (n < MinimumNodes(shape)) return 0;
  switch (shape) {
    case PartitionShape::kHalves:
      return 2 * (n / 2) * (n - n / 2);
    case PartitionShape::kMajority:
      return 2 * (n / 2 + 1) * (n - (n / 2 + 1));
    case PartitionShape::kMajoritiesRing:
      return n * (n - (2 * RingOf(n).reach + 1));
    case PartitionShape::kBridge:
      return 2 * (n / 2) * (n - n / 2 - 1);
  }
  return 0;
}

std::vector<std::vector<size_t>> PartitionShapeSides(PartitionShape shape, size_t n) {
  auto range = [](size_t begin, size_t end) {
    std::vector<size_t> side;
    for (size_t i = begin; i < end; ++i) side.push_back(i);
    return side;
  };
  switch (shape) {
    case PartitionShape::kHalves:
      return {range(0, n / 2), range(n / 2, n)};
    case PartitionShape::kMajority:
      return {range(0, n / 2 + 1), range(n / 2 + 1, n)};
    case PartitionShape::kMajoritiesRing:
      return {range(0, n)};
    case PartitionShape::kBridge:
      return {range(0, n / 2), range(n / 2, n / 2 + 1), range(n / 2 + 1, n)};
  }
  return {};
}

std::string PartitionShapeLabel(PartitionShape shape, const std::vector<std::string>& nodes) {
  std::string label(PartitionShapeName(shape));
  if (nodes.empty()) return label;
  if (shape == PartitionShape::kMajoritiesRing) {
    return label + " " + nodes.front() + ".." + nodes.back();
  }
  const std::vector<std::vector<size_t>> sides = PartitionShapeSides(shape, nodes.size());
  for (size_t s = 0; s < sides.size(); ++s) {
    label += s == 0 ? " " : " | ";
    for (size_t k = 0; k < sides[s].size(); ++k) {
      if (k > 0) label += ",";
      label += nodes[sides[s][k]];
    }
  }
  return label;
}

}  // namespace faultline
