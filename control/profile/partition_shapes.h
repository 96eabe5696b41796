// The partition shapes of a profile's `partitions: [{shape: ..., nodes: [...]}]` (docs/formats.md,
// "Partitions"): which ordered pairs of nodes cannot reach each other. Pure index math, no
// endpoints: the parser turns each pair (i, j) into a cut from node i to node j.
//
// Nodes are numbered 0..n-1 in the order the profile lists them. These are the grudges of Jepsen's
// partition nemeses (bisect, majorities-ring, bridge) made deterministic:
//
// - halves: nodes [0, n/2) against the rest, cut both ways. n >= 2; with an even n neither side
//   has a majority, with an odd n the second side is the larger one.
// - majority: the first n/2 + 1 nodes (a majority) against the remaining minority, cut both ways;
//   the minority nodes still see each other. n >= 3.
// - majorities-ring: the nodes sit on a ring in list order. With m = n/2 + 1 (a majority) and
//   k = ceil((m - 1) / 2), each node sees the nodes within ring distance k (itself included, 2k + 1
//   nodes, at least m) and is cut, both ways, from the others. Every node sees a majority, and no
//   two nodes see the same set of nodes, so no majority agrees on a leader. n >= 4.
// - bridge: node n/2 is the bridge; the nodes before it and the nodes after it are cut from each
//   other both ways, and the bridge sees everyone. n >= 3.
//
// (n/2 rounds down everywhere.) Every shape is symmetric: (i, j) is cut exactly when (j, i) is.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace faultline {

enum class PartitionShape { kHalves, kMajority, kMajoritiesRing, kBridge };

// The names profiles use, in enum order: halves, majority, majorities-ring, bridge.
extern const std::string_view kPartitionShapeNames[4];

std::optional<PartitionShape> PartitionShapeFromName(std::string_view name);
std::string_view PartitionShapeName(PartitionShape shape);

// The fewest nodes the shape makes sense for (2 for halves, 3 for majority and bridge, 4 for
// majorities-ring).
size_t MinimumNodes(PartitionShape shape);

// One sentence on what the shape cuts, for error messages and documentation.
std::string_view DescribePartitionShape(PartitionShape shape);

// Whether node i must not reach node j (i != j, both < n, n >= MinimumNodes(shape)).
bool ShapeCuts(PartitionShape shape, size_t n, size_t i, size_t j);

// Every ordered pair (i, j) with ShapeCuts(shape, n, i, j), in order of i then j.
std::vector<std::pair<size_t, size_t>> PartitionShapeCuts(PartitionShape shape, size_t n);

// The size of PartitionShapeCuts(shape, n), without building it (O(1), for any n).
size_t PartitionShapeCutCount(PartitionShape shape, size_t n);

// The sides of the shape for a readable name, as node index lists: halves and majority give two
// sides, bridge three (before, the bridge, after); majorities-ring one (all nodes in ring order).
std::vector<std::vector<size_t>> PartitionShapeSides(PartitionShape shape, size_t n);

// The name a shape entry gets without `name:`: "halves n1,n2 | n3,n4,n5",
// "majority n1,n2,n3 | n4,n5", "majorities-ring n1..n5", "bridge n1,n2 | n3 | n4,n5".
// `nodes` are the nodes' labels as written in the profile.
std::string PartitionShapeLabel(PartitionShape shape, const std::vector<std::string>& nodes);

}  // namespace faultline
