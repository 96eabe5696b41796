// The YAML reader of every faultline file (profiles, traces, topologies): libyaml's event parser
// builds a small read-only tree of maps, lists and scalars, each node with its line and column.
//
// Why not a full YAML library: the parsers need a tree, positions and nothing else, and the input
// may come from anyone who can reach the control socket. libyaml (fuzzed continuously by
// OSS-Fuzz) does the syntax; this file bounds the work: the text's size, the nesting depth and the
// number of nodes are limited, and anchors and aliases are refused, so a document's tree is never
// larger than its text (no "billion laughs"). Every limit is checked while the events arrive, so
// a hostile document costs at most a pass over its first bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::yaml {

// A position in the text, 0-based (a null mark has none: errors then point at 1:1).
struct Mark {
  int line = -1;
  int column = -1;
  bool is_null() const { return line < 0; }
};

// What LoadAll accepts at most (docs/formats.md, "Limits").
struct Limits {
  size_t max_bytes = size_t{16} << 20;  // the text
  int max_depth = 64;                   // maps and lists inside each other
  size_t max_nodes = 1'000'000;         // maps, lists and scalars, in all documents
};

namespace detail {
struct Tree;
}

// A node of a loaded document, or no node (default-constructed: IsNull(), a null mark). Cheap to
// copy; it keeps its document alive.
class Node {
 public:
  Node() = default;

  // A plain scalar spelled ~, null, Null, NULL or nothing at all (`key:`) is null, as in YAML's
  // core schema; quoted, it is the text.
  bool IsNull() const;
  bool IsScalar() const;
  bool IsSequence() const;
  bool IsMap() const;

  // The text of a scalar ("" for anything else).
  const std::string& Scalar() const;
  yaml::Mark Mark() const;

  // Items of a list, entries of a map, 0 for anything else.
  size_t size() const;

  // A list's items.
  Node Item(size_t index) const;
  class Iterator;
  Iterator begin() const;
  Iterator end() const;

  // A map's entries in file order (keys may repeat: the caller decides what that means).
  Node Key(size_t index) const;
  Node Value(size_t index) const;
  // The value of the first entry whose key is the scalar `key`, if any.
  std::optional<Node> Find(std::string_view key) const;

 private:
  friend struct detail::Tree;
  Node(std::shared_ptr<const detail::Tree> tree, uint32_t index)
      : tree_(std::move(tree)), index_(index) {}
  Node Child(size_t index) const;

  std::shared_ptr<const detail::Tree> tree_;
  uint32_t index_ = 0;
};

// Iterates over a list's items (nothing for a map or scalar).
class Node::Iterator {
 public:
  Iterator(const Node* node, size_t index) : node_(node), index_(index) {}
  Node operator*() const { return node_->Item(index_); }
  Iterator& operator++() {
    ++index_;
    return *this;
  }
  bool operator!=(const Iterator& other) const { return index_ != other.index_; }

 private:
  const Node* node_;
  size_t index_;
};

// Why a text is not a document faultline reads: a syntax error (libyaml's words), a limit, an
// anchor or alias; where; and the message.
struct LoadError {
  yaml::Mark mark;
  std::string message;
};

// Every document of `text` in order (none for an empty text or one of comments only), or the
// first problem in *error.
std::optional<std::vector<Node>> LoadAll(std::string_view text, LoadError* error,
                                         const Limits& limits = Limits());

}  // namespace faultline::yaml
