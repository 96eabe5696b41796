// The topology file of `faultline trace generate` (docs/traces.md): racks of nodes with their
// addresses, optionally the aggregation switches above the racks and load balancers in front of
// nodes. The generator turns it into the groups of a trace's inline profile and draws failures
// per device.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace faultline {

struct TopologyNode {
  std::string name;                    // "rack-a-n1" (list form) or the name given (map form)
  std::vector<std::string> addresses;  // addresses or prefixes, as written (validated)
};

struct TopologyRack {
  std::string name;
  std::vector<TopologyNode> nodes;  // at least one
};

// An aggregation switch and the racks under it (indices into Topology::racks).
struct TopologyAggregation {
  std::string name;
  std::vector<size_t> racks;
};

// A load balancer and the nodes behind it, as (rack, node) indices.
struct TopologyLoadBalancer {
  std::string name;
  std::vector<std::pair<size_t, size_t>> nodes;
};

struct Topology {
  int version = 1;
  std::vector<TopologyRack> racks;  // in file order; at least one
  std::vector<TopologyAggregation> aggregations;
  std::vector<TopologyLoadBalancer> load_balancers;

  size_t NodeCount() const;
};

// Reads and validates the topology at `path`. On a problem returns nullopt and sets *error to
// "PATH:LINE:COL: message" (1-based; "PATH: message" when the file cannot be read).
std::optional<Topology> ParseTopologyFile(const std::string& path, std::string* error);

// The same for text in memory; `name_for_errors` stands in for PATH.
std::optional<Topology> ParseTopologyText(const std::string& text,
                                          const std::string& name_for_errors, std::string* error);

}  // namespace faultline
