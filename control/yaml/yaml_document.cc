#include "control/yaml/yaml_document.h"

#include <yaml.h>

#include <algorithm>

namespace faultline::yaml {
namespace detail {

enum class Kind : uint8_t { kNull, kScalar, kSequence, kMap };

struct NodeData {
  Kind kind = Kind::kNull;
  yaml::Mark mark;
  std::string scalar;
  std::vector<uint32_t> children;  // a list's items; a map's keys and values, alternating
};

struct Tree {
  std::vector<NodeData> nodes;

  static Node MakeNode(std::shared_ptr<const Tree> tree, uint32_t index) {
    return Node(std::move(tree), index);
  }
};

}  // namespace detail

namespace {

using detail::Kind;
using detail::NodeData;

const std::string kEmpty;

// libyaml's events, each freed when it goes out of scope.
class Event {
 public:
  Event() = default;
  ~Event() {
    if (parsed_) yaml_event_delete(&event_);
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool Parse(yaml_parser_t* parser) {
    parsed_ = yaml_parser_parse(parser, &event_) != 0;
    return parsed_;
  }
  const yaml_event_t& operator*() const { return event_; }
  const yaml_event_t* operator->() const { return &event_; }

 private:
  yaml_event_t event_{};
  bool parsed_ = false;
};

class Parser {
 public:
  explicit Parser(std::string_view text) {
    yaml_parser_initialize(&parser_);
    yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()),
                                 text.size());
  }
  ~Parser() { yaml_parser_delete(&parser_); }
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  yaml_parser_t* get() { return &parser_; }

 private:
  yaml_parser_t parser_;
};

Mark MarkOf(const yaml_mark_t& mark) {
  return Mark{.line = static_cast<int>(std::min<size_t>(mark.line, INT32_MAX)),
              .column = static_cast<int>(std::min<size_t>(mark.column, INT32_MAX))};
}

// The line and column of byte `offset` (libyaml's reader errors give an offset only).
Mark MarkAtOffset(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  const std::string_view before = text.substr(0, offset);
  const size_t newlines = static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  const size_t line_start = before.rfind('\n');
  const size_t column = line_start == std::string_view::npos ? offset : offset - line_start - 1;
  return Mark{.line = static_cast<int>(std::min<size_t>(newlines, INT32_MAX)),
              .column = static_cast<int>(std::min<size_t>(column, INT32_MAX))};
}

// libyaml's words for a syntax error, with where the construct it was reading began.
LoadError SyntaxError(std::string_view text, const yaml_parser_t& parser) {
  if (parser.error == YAML_MEMORY_ERROR) return LoadError{Mark{}, "out of memory reading YAML"};
  const std::string problem = parser.problem != nullptr ? parser.problem : "not valid YAML";
  if (parser.error == YAML_READER_ERROR) {
    return LoadError{MarkAtOffset(text, parser.problem_offset),
                     problem + " (the text must be UTF-8 without control characters)"};
  }
  std::string message = problem;
  if (parser.context != nullptr) {
    message += std::string(" (") + parser.context + " at line " +
               std::to_string(parser.context_mark.line + 1) + ", column " +
               std::to_string(parser.context_mark.column + 1) + ")";
  }
  return LoadError{MarkOf(parser.problem_mark), message};
}

bool IsNullText(std::string_view text) {
  return text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL";
}

// Builds the tree from the events, checking every limit as they arrive.
class Builder {
 public:
  Builder(std::string_view text, const Limits& limits) : text_(text), limits_(limits) {}

  std::optional<std::vector<Node>> Load(LoadError* error) {
    if (text_.size() > limits_.max_bytes) {
      *error = LoadError{Mark{}, "the text is " + std::to_string(text_.size()) +
                                     " bytes, more than the " + std::to_string(limits_.max_bytes) +
                                     " a faultline file may have"};
      return std::nullopt;
    }
    Parser parser(text_);
    for (;;) {
      Event event;
      if (!event.Parse(parser.get())) {
        *error = SyntaxError(text_, *parser.get());
        return std::nullopt;
      }
      if (event->type == YAML_STREAM_END_EVENT) break;
      if (!Take(*event, error)) return std::nullopt;
    }
    std::shared_ptr<const detail::Tree> tree = std::move(tree_);
    std::vector<Node> documents;
    for (uint32_t root : roots_) documents.push_back(detail::Tree::MakeNode(tree, root));
    return documents;
  }

 private:
  bool Take(const yaml_event_t& event, LoadError* error) {
    const Mark mark = MarkOf(event.start_mark);
    switch (event.type) {
      case YAML_ALIAS_EVENT:
        *error = LoadError{mark, "aliases (*" + Text(event.data.alias.anchor) +
                                     ") are not supported: write the value out"};
        return false;
      case YAML_SCALAR_EVENT: {
        if (!NoAnchor(event.data.scalar.anchor, mark, error)) return false;
        const std::string_view text(reinterpret_cast<const char*>(event.data.scalar.value),
                                    event.data.scalar.length);
        // An explicit tag (`!!str null`) or quotes make the text a string.
        const bool null = event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
                          event.data.scalar.tag == nullptr && IsNullText(text);
        NodeData* node = Add(null ? Kind::kNull : Kind::kScalar, mark, error);
        if (node == nullptr) return false;
        if (!null) node->scalar.assign(text);
        return true;
      }
      case YAML_SEQUENCE_START_EVENT:
        return NoAnchor(event.data.sequence_start.anchor, mark, error) &&
               Open(Kind::kSequence, mark, error);
      case YAML_MAPPING_START_EVENT:
        return NoAnchor(event.data.mapping_start.anchor, mark, error) &&
               Open(Kind::kMap, mark, error);
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        open_.pop_back();
        return true;
      default:  // stream and document boundaries
        return true;
    }
  }

  static std::string Text(const yaml_char_t* text) {
    return text != nullptr ? reinterpret_cast<const char*>(text) : "";
  }

  bool NoAnchor(const yaml_char_t* anchor, const Mark& mark, LoadError* error) {
    if (anchor == nullptr) return true;
    *error = LoadError{mark, "anchors (&" + Text(anchor) +
                                 ") are not supported: write each value out where it is used"};
    return false;
  }

  bool Open(Kind kind, const Mark& mark, LoadError* error) {
    if (open_.size() >= static_cast<size_t>(limits_.max_depth)) {
      *error = LoadError{
          mark, "maps and lists nested more than " + std::to_string(limits_.max_depth) + " deep"};
      return false;
    }
    if (Add(kind, mark, error) == nullptr) return false;
    open_.push_back(static_cast<uint32_t>(tree_->nodes.size() - 1));
    return true;
  }

  // A new node, as the next child of the open collection (or a document's root).
  NodeData* Add(Kind kind, const Mark& mark, LoadError* error) {
    if (tree_->nodes.size() >= limits_.max_nodes) {
      *error = LoadError{mark, "more than " + std::to_string(limits_.max_nodes) +
                                   " values (maps, lists and scalars)"};
      return nullptr;
    }
    const auto index = static_cast<uint32_t>(tree_->nodes.size());
    if (open_.empty()) {
      roots_.push_back(index);
    } else {
      tree_->nodes[open_.back()].children.push_back(index);
    }
    NodeData& node = tree_->nodes.emplace_back();
    node.kind = kind;
    node.mark = mark;
    return &node;
  }

  std::string_view text_;
  const Limits& limits_;
  std::shared_ptr<detail::Tree> tree_ = std::make_shared<detail::Tree>();
  std::vector<uint32_t> open_;   // the maps and lists not yet closed, outermost first
  std::vector<uint32_t> roots_;  // one per document
};

}  // namespace

bool Node::IsNull() const { return tree_ == nullptr || tree_->nodes[index_].kind == Kind::kNull; }
bool Node::IsScalar() const {
  return tree_ != nullptr && tree_->nodes[index_].kind == Kind::kScalar;
}
bool Node::IsSequence() const {
  return tree_ != nullptr && tree_->nodes[index_].kind == Kind::kSequence;
}
bool Node::IsMap() const { return tree_ != nullptr && tree_->nodes[index_].kind == Kind::kMap; }

const std::string& Node::Scalar() const {
  return tree_ != nullptr ? tree_->nodes[index_].scalar : kEmpty;
}

Mark Node::Mark() const { return tree_ != nullptr ? tree_->nodes[index_].mark : yaml::Mark{}; }

size_t Node::size() const {
  if (IsSequence()) return tree_->nodes[index_].children.size();
  if (IsMap()) return tree_->nodes[index_].children.size() / 2;
  return 0;
}

Node Node::Child(size_t index) const {
  return Node(tree_, tree_->nodes[index_].children.at(index));
}

Node Node::Item(size_t index) const { return IsSequence() ? Child(index) : Node(); }
Node::Iterator Node::begin() const { return Iterator(this, 0); }
Node::Iterator Node::end() const { return Iterator(this, IsSequence() ? size() : 0); }

Node Node::Key(size_t index) const { return IsMap() ? Child(2 * index) : Node(); }
Node Node::Value(size_t index) const { return IsMap() ? Child(2 * index + 1) : Node(); }

std::optional<Node> Node::Find(std::string_view key) const {
  for (size_t i = 0; i < size(); ++i) {
    const Node candidate = Key(i);
    if (candidate.IsScalar() && candidate.Scalar() == key) return Value(i);
  }
  return std::nullopt;
}

std::optional<std::vector<Node>> LoadAll(std::string_view text, LoadError* error,
                                         const Limits& limits) {
  return Builder(text, limits).Load(error);
}

}  // namespace faultline::yaml
