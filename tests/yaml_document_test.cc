// The YAML reader (control/yaml/yaml_document): the tree, positions and null scalars the parsers
// rely on, and the limits that bound the work of any input: size, depth, node count, no anchors or
// aliases; each limit just under and just over.
#include "control/yaml/yaml_document.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace faultline::yaml {
namespace {

// The documents of `text`, failing the test on an error.
std::vector<Node> Load(const std::string& text, const Limits& limits = Limits()) {
  LoadError error;
  std::optional<std::vector<Node>> documents = LoadAll(text, &error, limits);
  EXPECT_TRUE(documents.has_value()) << error.message;
  return documents.value_or(std::vector<Node>{});
}

// "LINE:COL: message" (1-based) of the error `text` gives, or "" if it loads.
std::string Error(const std::string& text, const Limits& limits = Limits()) {
  LoadError error;
  if (LoadAll(text, &error, limits)) return "";
  return std::to_string(error.mark.line + 1) + ":" + std::to_string(error.mark.column + 1) + ": " +
         error.message;
}

TEST(YamlDocumentTest, MapsListsAndScalarsWithTheirPositions) {
  const std::vector<Node> documents = Load("a: 1\nb:\n  - x\n  - {c: 'd e'}\nnone:\n");
  ASSERT_EQ(documents.size(), 1u);
  const Node root = documents[0];
  ASSERT_TRUE(root.IsMap());
  ASSERT_EQ(root.size(), 3u);
  EXPECT_EQ(root.Key(0).Scalar(), "a");
  EXPECT_EQ(root.Value(0).Scalar(), "1");
  EXPECT_EQ(root.Value(0).Mark().line, 0);
  EXPECT_EQ(root.Value(0).Mark().column, 3);
  const Node list = root.Value(1);
  ASSERT_TRUE(list.IsSequence());
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list.Mark().line, 2);
  EXPECT_EQ(list.Mark().column, 2);
  std::vector<std::string> kinds;
  for (const Node& item : list) kinds.push_back(item.IsScalar() ? "scalar" : "map");
  EXPECT_EQ(kinds, (std::vector<std::string>{"scalar", "map"}));
  ASSERT_TRUE(list.Item(1).Find("c").has_value());
  EXPECT_EQ(list.Item(1).Find("c")->Scalar(), "d e");
  EXPECT_EQ(list.Item(1).Find("c")->Mark().column, 8);
  EXPECT_FALSE(list.Item(1).Find("d").has_value());
  EXPECT_TRUE(root.Value(2).IsNull());
  EXPECT_EQ(root.Find("none")->Mark().line, 4);
  // What is not a list or map has no items and no entries.
  EXPECT_EQ(root.Value(0).size(), 0u);
  EXPECT_TRUE(root.Value(0).Item(0).IsNull());
  EXPECT_TRUE(root.Value(0).Key(0).IsNull());
  EXPECT_EQ(root.Value(0).begin() != root.Value(0).end(), false);
}

TEST(YamlDocumentTest, PlainNullSpellingsAreNullQuotedOrTaggedAreText) {
  const Node root = Load("[~, null, Null, NULL, '', 'null', \"~\", !!str null, nil, '0']")[0];
  ASSERT_EQ(root.size(), 10u);
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(root.Item(i).IsNull()) << i;
  for (size_t i = 4; i < 10; ++i) {
    EXPECT_TRUE(root.Item(i).IsScalar()) << i;
    EXPECT_FALSE(root.Item(i).IsNull()) << i;
  }
  EXPECT_EQ(root.Item(5).Scalar(), "null");
  EXPECT_EQ(root.Item(7).Scalar(), "null");
}

TEST(YamlDocumentTest, DocumentsEmptyAndSeveral) {
  EXPECT_TRUE(Load("").empty());
  EXPECT_TRUE(Load("# only a comment\n").empty());
  const std::vector<Node> one = Load("---\n");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_TRUE(one[0].IsNull());
  const std::vector<Node> two = Load("a: 1\n---\nb: 2\n");
  ASSERT_EQ(two.size(), 2u);
  EXPECT_EQ(two[1].Mark().line, 2);
  EXPECT_EQ(two[1].Key(0).Scalar(), "b");
  // A default node is no node: null, no position.
  EXPECT_TRUE(Node().IsNull());
  EXPECT_TRUE(Node().Mark().is_null());
  EXPECT_EQ(Node().Scalar(), "");
}

TEST(YamlDocumentTest, NodesOutliveTheirListOfDocuments) {
  Node kept;
  {
    std::vector<Node> documents = Load("outer: {inner: [deep]}\n");
    kept = documents[0].Find("outer")->Find("inner")->Item(0);
  }
  EXPECT_EQ(kept.Scalar(), "deep");
}

TEST(YamlDocumentTest, SyntaxErrorsInLibyamlsWordsWithPositions) {
  EXPECT_EQ(Error("a: b: c\n"), "1:5: mapping values are not allowed in this context");
  EXPECT_EQ(Error("a: [1, 2\n"),
            "2:1: did not find expected ',' or ']' (while parsing a flow sequence at line 1, "
            "column 4)");
  EXPECT_EQ(Error("a:\n\tb: 1\n"),
            "2:1: found character that cannot start any token (while scanning for the next token "
            "at line 2, column 1)");
  // Not UTF-8, and control characters: the reader's offset becomes a line and column.
  EXPECT_EQ(Error("a: 1\nb: \xff\n"),
            "2:4: invalid leading UTF-8 octet (the text must be UTF-8 without control characters)");
  EXPECT_EQ(Error(std::string("a: \0\n", 5)),
            "1:4: control characters are not allowed (the text must be UTF-8 without control "
            "characters)");
}

// yaml-cpp 0.7 (Debian 12) looped forever on these bytes, its memory growing ~150 MB/s.
TEST(YamlDocumentTest, BytesThatHungTheOldReaderFailAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Error(", T"),
            "1:1: did not find expected node content (while parsing a block node at line 1, "
            "column 1)");
  EXPECT_NE(Error("version: 1\n, T\n"), "");
  EXPECT_NE(Error("[, T"), "");
  // Not a timing assertion: only a hang (the old behaviour) takes minutes.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

TEST(YamlDocumentTest, AnchorsAndAliasesAreRefusedWhereTheyAre) {
  EXPECT_EQ(Error("a: &x 1\nb: 2\n"),
            "1:4: anchors (&x) are not supported: write each value out where it is used");
  EXPECT_EQ(Error("a: &m {b: 1}\n"),
            "1:4: anchors (&m) are not supported: write each value out where it is used");
  EXPECT_EQ(Error("a: &l [1]\n"),
            "1:4: anchors (&l) are not supported: write each value out where it is used");
  EXPECT_EQ(Error("a: 1\nb: *x\n"), "2:4: aliases (*x) are not supported: write the value out");
  // The billion laughs: refused at its first anchor, before anything is expanded.
  EXPECT_EQ(Error("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n"),
            "1:4: anchors (&a) are not supported: write each value out where it is used");
}

TEST(YamlDocumentTest, SizeLimitJustUnderAndOver) {
  const Limits limits{.max_bytes = 10, .max_depth = 64, .max_nodes = 100};
  EXPECT_EQ(Error("a: 1234567", limits), "");  // 10 bytes
  EXPECT_EQ(Error("a: 12345678", limits),
            "0:0: the text is 11 bytes, more than the 10 a faultline file may have");
  EXPECT_EQ(Limits().max_bytes, size_t{16} << 20);
  std::string big(Limits().max_bytes, '#');
  EXPECT_EQ(Error(big), "");
  big += '#';
  EXPECT_NE(Error(big).find("more than the 16777216"), std::string::npos);
}

TEST(YamlDocumentTest, DepthLimitJustUnderAndOver) {
  auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  EXPECT_EQ(Limits().max_depth, 64);
  EXPECT_EQ(Error(nested(64)), "");
  EXPECT_EQ(Error(nested(65)), "1:65: maps and lists nested more than 64 deep");
  EXPECT_EQ(Error("a:\n" + std::string(65, ' ') + "b: 1\n", Limits{.max_depth = 1}),
            "2:66: maps and lists nested more than 1 deep");
  // Far deeper than any stack: refused at level 65 without reading the rest.
  EXPECT_EQ(Error(std::string(1'000'000, '[')), "1:65: maps and lists nested more than 64 deep");
  EXPECT_EQ(Error(std::string(500'000, '{')).substr(0, 5), "1:65:");
}

TEST(YamlDocumentTest, NodeLimitJustUnderAndOver) {
  const Limits limits{.max_bytes = size_t{16} << 20, .max_depth = 64, .max_nodes = 5};
  EXPECT_EQ(Error("[1, 2, 3, 4]", limits), "");  // the list and 4 scalars
  EXPECT_EQ(Error("[1, 2, 3, 4, 5]", limits), "1:14: more than 5 values (maps, lists and scalars)");
  EXPECT_EQ(Error("a: 1\n---\nb: 2\n---\nc: 3\n", limits),
            "3:4: more than 5 values (maps, lists and scalars)");  // counted over documents
  EXPECT_EQ(Limits().max_nodes, 1'000'000u);
  std::string list = "[0";
  for (int i = 1; i < 999'999; ++i) list += ",0";
  EXPECT_EQ(Error(list + "]"), "");  // 999,999 scalars and the list
  EXPECT_EQ(Error(list + ",0]"), "1:2000000: more than 1000000 values (maps, lists and scalars)");
}

}  // namespace
}  // namespace faultline::yaml
