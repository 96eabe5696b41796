#include "control/profile/partition_shapes.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace faultline {
namespace {

constexpr PartitionShape kShapes[] = {PartitionShape::kHalves, PartitionShape::kMajority,
                                      PartitionShape::kMajoritiesRing, PartitionShape::kBridge};

// reach[i][j]: node i's frames get to node j (a node always reaches itself), built from the cut
// list, not from ShapeCuts, so that the list is what is checked.
using Matrix = std::vector<std::vector<bool>>;

Matrix Reachability(PartitionShape shape, size_t n) {
  Matrix reach(n, std::vector<bool>(n, true));
  for (const auto& [i, j] : PartitionShapeCuts(shape, n)) {
    EXPECT_LT(i, n);
    EXPECT_LT(j, n);
    EXPECT_NE(i, j);
    if (i < n && j < n) reach[i][j] = false;
  }
  return reach;
}

// The matrix as rows of '1' (reaches) and '.' (cut), to compare with a picture.
std::vector<std::string> Picture(const Matrix& reach) {
  std::vector<std::string> rows;
  for (const std::vector<bool>& row : reach) {
    std::string text;
    for (bool reaches : row) text += reaches ? '1' : '.';
    rows.push_back(text);
  }
  return rows;
}

// Every node in [begin, end) reaches every other node in it.
void ExpectClique(const Matrix& reach, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    for (size_t j = begin; j < end; ++j) EXPECT_TRUE(reach[i][j]) << i << " -> " << j;
  }
}

// No node in [a, a_end) reaches any in [b, b_end), nor the other way.
void ExpectCut(const Matrix& reach, size_t a, size_t a_end, size_t b, size_t b_end) {
  for (size_t i = a; i < a_end; ++i) {
    for (size_t j = b; j < b_end; ++j) {
      EXPECT_FALSE(reach[i][j]) << i << " -> " << j;
      EXPECT_FALSE(reach[j][i]) << j << " -> " << i;
    }
  }
}

TEST(PartitionShapesTest, NamesAndMinimums) {
  EXPECT_EQ(PartitionShapeFromName("halves"), PartitionShape::kHalves);
  EXPECT_EQ(PartitionShapeFromName("majority"), PartitionShape::kMajority);
  EXPECT_EQ(PartitionShapeFromName("majorities-ring"), PartitionShape::kMajoritiesRing);
  EXPECT_EQ(PartitionShapeFromName("bridge"), PartitionShape::kBridge);
  EXPECT_FALSE(PartitionShapeFromName("bisect").has_value());
  for (PartitionShape shape : kShapes) {
    EXPECT_EQ(PartitionShapeFromName(PartitionShapeName(shape)), shape);
    EXPECT_FALSE(DescribePartitionShape(shape).empty());
  }
  EXPECT_EQ(MinimumNodes(PartitionShape::kHalves), 2u);
  EXPECT_EQ(MinimumNodes(PartitionShape::kMajority), 3u);
  EXPECT_EQ(MinimumNodes(PartitionShape::kMajoritiesRing), 4u);
  EXPECT_EQ(MinimumNodes(PartitionShape::kBridge), 3u);
}

TEST(PartitionShapesTest, TooFewNodesCutNothing) {
  for (PartitionShape shape : kShapes) {
    for (size_t n = 0; n < MinimumNodes(shape); ++n) {
      EXPECT_TRUE(PartitionShapeCuts(shape, n).empty()) << PartitionShapeName(shape) << " " << n;
      EXPECT_EQ(PartitionShapeCutCount(shape, n), 0u);
    }
  }
}

// What every shape promises: ordered pairs of distinct nodes, in order, each once, both ways,
// as many as PartitionShapeCutCount says, and the same as ShapeCuts.
TEST(PartitionShapesTest, CutListsAreSymmetricSortedAndCounted) {
  for (PartitionShape shape : kShapes) {
    for (size_t n = MinimumNodes(shape); n <= 64; ++n) {
      SCOPED_TRACE(std::string(PartitionShapeName(shape)) + " n=" + std::to_string(n));
      const std::vector<std::pair<size_t, size_t>> cuts = PartitionShapeCuts(shape, n);
      EXPECT_EQ(cuts.size(), PartitionShapeCutCount(shape, n));
      EXPECT_FALSE(cuts.empty());
      EXPECT_TRUE(std::is_sorted(cuts.begin(), cuts.end()));
      EXPECT_EQ(std::adjacent_find(cuts.begin(), cuts.end()), cuts.end());
      const std::set<std::pair<size_t, size_t>> set(cuts.begin(), cuts.end());
      for (const auto& [i, j] : cuts) {
        EXPECT_TRUE(set.count({j, i})) << i << " -> " << j << " is cut, the reverse is not";
      }
      for (size_t i = 0; i < n; ++i) {
        for (size_t j = 0; j < n; ++j) EXPECT_EQ(ShapeCuts(shape, n, i, j), set.count({i, j}) > 0);
      }
    }
  }
}

TEST(PartitionShapesTest, HalvesSplitsTheFirstHalfFromTheRest) {
  EXPECT_EQ(Picture(Reachability(PartitionShape::kHalves, 5)),
            (std::vector<std::string>{"11...", "11...", "..111", "..111", "..111"}));
  EXPECT_EQ(Picture(Reachability(PartitionShape::kHalves, 2)),
            (std::vector<std::string>{"1.", ".1"}));
  for (size_t n = 2; n <= 9; ++n) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const Matrix reach = Reachability(PartitionShape::kHalves, n);
    const size_t half = n / 2;
    ExpectClique(reach, 0, half);
    ExpectClique(reach, half, n);
    ExpectCut(reach, 0, half, half, n);
    // Neither side is a majority for an even n; for an odd one the second side is.
    EXPECT_LE(2 * half, n);
    EXPECT_EQ(2 * (n - half) > n, n % 2 == 1);
    EXPECT_EQ(PartitionShapeCuts(PartitionShape::kHalves, n).size(), 2 * half * (n - half));
  }
}

TEST(PartitionShapesTest, MajorityKeepsAMajorityTogetherAndTheMinorityTogether) {
  EXPECT_EQ(Picture(Reachability(PartitionShape::kMajority, 5)),
            (std::vector<std::string>{"111..", "111..", "111..", "...11", "...11"}));
  EXPECT_EQ(Picture(Reachability(PartitionShape::kMajority, 4)),
            (std::vector<std::string>{"111.", "111.", "111.", "...1"}));
  for (size_t n = 3; n <= 9; ++n) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const Matrix reach = Reachability(PartitionShape::kMajority, n);
    const size_t majority = n / 2 + 1;
    EXPECT_GT(2 * majority, n);
    EXPECT_LT(majority, n);
    ExpectClique(reach, 0, majority);
    ExpectClique(reach, majority, n);  // the minority still sees itself
    ExpectCut(reach, 0, majority, majority, n);
  }
}

TEST(PartitionShapesTest, BridgeSeesBothSidesThatCannotSeeEachOther) {
  EXPECT_EQ(Picture(Reachability(PartitionShape::kBridge, 5)),
            (std::vector<std::string>{"111..", "111..", "11111", "..111", "..111"}));
  EXPECT_EQ(Picture(Reachability(PartitionShape::kBridge, 3)),
            (std::vector<std::string>{"11.", "111", ".11"}));
  for (size_t n = 3; n <= 9; ++n) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const Matrix reach = Reachability(PartitionShape::kBridge, n);
    const size_t bridge = n / 2;
    for (size_t j = 0; j < n; ++j) {
      EXPECT_TRUE(reach[bridge][j]);
      EXPECT_TRUE(reach[j][bridge]);
    }
    ExpectClique(reach, 0, bridge);
    ExpectClique(reach, bridge + 1, n);
    ExpectCut(reach, 0, bridge, bridge + 1, n);
    // The bridge and either side are a majority together (Jepsen's bridge grudge).
    EXPECT_GT(2 * (bridge + 1), n);
    EXPECT_GE(2 * (n - bridge), n);
  }
}

TEST(PartitionShapesTest, MajoritiesRingGivesEveryNodeADifferentMajority) {
  // n = 5: each node sees its two ring neighbours; n = 6: everyone but the opposite node.
  EXPECT_EQ(Picture(Reachability(PartitionShape::kMajoritiesRing, 5)),
            (std::vector<std::string>{"11..1", "111..", ".111.", "..111", "1..11"}));
  EXPECT_EQ(Picture(Reachability(PartitionShape::kMajoritiesRing, 6)),
            (std::vector<std::string>{"111.11", "1111.1", "11111.", ".11111", "1.1111", "11.111"}));
  EXPECT_EQ(Picture(Reachability(PartitionShape::kMajoritiesRing, 4)),
            (std::vector<std::string>{"11.1", "111.", ".111", "1.11"}));
  for (size_t n = 4; n <= 64; ++n) {
    SCOPED_TRACE("n=" + std::to_string(n));
    const Matrix reach = Reachability(PartitionShape::kMajoritiesRing, n);
    const size_t majority = n / 2 + 1;
    std::set<std::vector<bool>> seen;
    for (size_t i = 0; i < n; ++i) {
      const size_t sees = std::count(reach[i].begin(), reach[i].end(), true);
      EXPECT_GE(sees, majority) << "node " << i;
      EXPECT_LT(sees, n) << "node " << i << " sees everyone";
      EXPECT_TRUE(reach[i][i]);
      EXPECT_TRUE(seen.insert(reach[i]).second) << "node " << i << " sees what another sees";
      for (size_t j = 0; j < n; ++j) EXPECT_EQ(reach[i][j], reach[j][i]) << i << ", " << j;
    }
  }
}

TEST(PartitionShapesTest, LabelsNameTheSides) {
  const std::vector<std::string> five = {"n1", "n2", "n3", "n4", "n5"};
  EXPECT_EQ(PartitionShapeLabel(PartitionShape::kHalves, five), "halves n1,n2 | n3,n4,n5");
  EXPECT_EQ(PartitionShapeLabel(PartitionShape::kMajority, five), "majority n1,n2,n3 | n4,n5");
  EXPECT_EQ(PartitionShapeLabel(PartitionShape::kMajoritiesRing, five), "majorities-ring n1..n5");
  EXPECT_EQ(PartitionShapeLabel(PartitionShape::kBridge, five), "bridge n1,n2 | n3 | n4,n5");
  EXPECT_EQ(PartitionShapeLabel(PartitionShape::kHalves, {"a", "b"}), "halves a | b");
  EXPECT_EQ(PartitionShapeSides(PartitionShape::kBridge, 4),
            (std::vector<std::vector<size_t>>{{0, 1}, {2}, {3}}));
}

}  // namespace
}  // namespace faultline
