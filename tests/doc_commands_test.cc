// Every command line the documentation shows (README.md, docs/*.md, profiles/README.md) that
// starts with `faultline` or `build/faultline` parses: each is run with FAULTLINE_PARSE_ONLY=1,
// which makes the binary check its options and values and exit without running anything. So a
// renamed or removed option, or a value the command line refuses, fails here, not in a reader's
// terminal.
//
// What counts as a command line: a line of a fenced code block, or an inline code span, whose
// first word is `faultline` or `build/faultline` (output such as `faultline: forwarding` is not:
// its first word is `faultline:`). Lines ending in `\` continue on the next; in a synopsis, lines
// that start with spaces and `[` continue too. `# comments` are dropped. Synopses are expanded:
// `[...]` groups are included (one command per alternative of a `a | b` group), and placeholders
// in capitals (FILE, DUR, N...) get a value of the kind the option before them takes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tests/faultline_binary.h"

namespace faultline {
namespace {

using testing::RunFaultline;

struct DocCommand {
  std::string where;  // "docs/formats.md:42"
  std::string text;   // as written, continuations joined
  // A command line to run (code blocks, --help examples), or a mention in prose (inline code:
  // `faultline replay --trace`), which may leave out what the command requires but must not name
  // an option that does not exist or give a value the option refuses.
  bool complete = true;
};

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> Words(const std::string& text);

// `faultline WORD ...`: not output (`faultline apply: FILE applied`, `faultline: forwarding`)
// nor a diagram (`faultline apply/heal --> socket`). In prose (`known_only`: inline code, --help
// texts) WORD must also be a command, since sentences start with the name too ("faultline with a
// delay"); in code blocks any word counts, so a misspelt command fails.
bool StartsCommand(const std::string& text, bool known_only) {
  const std::vector<std::string> words = Words(text);
  if (words.size() < 2 || (words[0] != "faultline" && words[0] != "build/faultline")) return false;
  static const char* kFirst[] = {"run",   "replay", "validate", "apply",  "heal",     "show",
                                 "stats", "trace",  "demo",     "--help", "--version"};
  const bool known = std::find_if(std::begin(kFirst), std::end(kFirst), [&](const char* first) {
                       return words[1] == first;
                     }) != std::end(kFirst);
  const bool word = words[1].starts_with("--") ||
                    std::all_of(words[1].begin(), words[1].end(),
                                [](char c) { return (c >= 'a' && c <= 'z') || c == '-'; });
  if (known_only ? !known : !word) return false;
  for (size_t i = 1; i < std::min<size_t>(words.size(), 4); ++i) {
    if (words[i].ends_with(":")) return false;
  }
  return true;
}

std::string Trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// The command lines of one markdown text.
std::vector<DocCommand> Extract(const std::string& name, const std::string& markdown) {
  std::vector<DocCommand> commands;
  std::istringstream lines(markdown);
  bool fenced = false;
  int number = 0;
  DocCommand* open = nullptr;  // a command that continues on the next line
  for (std::string line; std::getline(lines, line);) {
    ++number;
    if (Trim(line).rfind("```", 0) == 0) {
      fenced = !fenced;
      open = nullptr;
      continue;
    }
    if (fenced) {
      const std::string trimmed = Trim(line);
      const bool synopsis_continuation = open != nullptr && line.size() > trimmed.size() &&
                                         !trimmed.empty() &&
                                         (trimmed[0] == '[' || trimmed[0] == '|');
      if (open != nullptr && (open->text.ends_with("\\") || synopsis_continuation)) {
        if (open->text.ends_with("\\")) open->text.pop_back();
        open->text += " " + trimmed;
        continue;
      }
      open = nullptr;
      if (StartsCommand(trimmed, /*known_only=*/false)) {
        commands.push_back({name + ":" + std::to_string(number), trimmed});
        open = &commands.back();
      }
      continue;
    }
    // Inline code spans in prose.
    for (size_t start = line.find('`'); start != std::string::npos;) {
      const size_t end = line.find('`', start + 1);
      if (end == std::string::npos) break;
      const std::string span = line.substr(start + 1, end - start - 1);
      if (StartsCommand(span, /*known_only=*/true)) {
        commands.push_back({name + ":" + std::to_string(number), span, /*complete=*/false});
      }
      start = line.find('`', end + 1);
    }
  }
  return commands;
}

// Words as a shell splits them (single and double quotes), without a trailing `# comment`.
std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : text) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
      continue;
    }
    if ((c == '#' || c == '>') && !in_word) break;  // a comment, or output redirected
    word += c;
    in_word = true;
  }
  if (in_word) words.push_back(word);
  return words;
}

// A placeholder: capitals, digits and -_. (FILE, DUR, EAL-ARGS..., B_IN.pcap is not one).
bool IsPlaceholder(const std::string& word) {
  std::string core = word;
  if (core.ends_with("...")) core.resize(core.size() - 3);
  if (core.empty() || !std::isupper(static_cast<unsigned char>(core[0]))) return false;
  return std::all_of(core.begin(), core.end(), [](char c) {
    return std::isupper(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

// What a placeholder after `option` stands for.
std::string PlaceholderValue(const std::string& option) {
  static const std::map<std::string, std::string> kValues = {
      {"--delay", "5ms"},
      {"--watch", "1s"},
      {"--idle-sleep", "50us"},
      {"--apply-timeout", "2s"},
      {"--duration", "30d"},
      {"--at", "+1s"},
      {"--seed", "1"},
      {"--hold", "1000"},
      {"--expected-rate", "1000000"},
      {"--workers", "1"},
      {"--count", "2"},
      {"--speed", "2"},
      {"--compress", "1440"},
      {"--scale", "2"},
      {"--model", "gill2011"},
      {"--on-exit", "drop"},
      // The time series (run, replay, stats).
      {"--series-interval", "1s"},
      {"--status-interval", "10s"},
      {"--window", "10s"},
      {"--since", "0"},
      {"--max-offset", "1ms"}};
  const auto found = kValues.find(option);
  return found != kValues.end() ? found->second : "placeholder.yaml";
}

// One word with placeholders filled in: "+DUR|RFC3339" -> "+1s", "drop|drain" -> "drop".
std::string Fill(std::string word, const std::string& option) {
  if (word.find('|') != std::string::npos && word != "|") word = word.substr(0, word.find('|'));
  if (word.starts_with("+") && IsPlaceholder(word.substr(1))) return PlaceholderValue(option);
  if (IsPlaceholder(word)) return PlaceholderValue(option);
  return word;
}

// The argument lists a command line stands for (one unless it has `[a | b]` groups), without
// the program name.
std::vector<std::vector<std::string>> Expand(const std::string& text) {
  std::vector<std::string> words = Words(text);
  if (!words.empty()) words.erase(words.begin());  // faultline / build/faultline
  // Split the brackets off the words: "[--json|--prometheus]" -> "[", "--json|--prometheus", "]".
  std::vector<std::string> tokens;
  for (const std::string& word : words) {
    std::string core = word;
    size_t opens = 0, closes = 0;
    while (core.starts_with("[")) core.erase(0, 1), ++opens;
    while (core.ends_with("]")) core.pop_back(), ++closes;
    tokens.insert(tokens.end(), opens, "[");
    // "a|b" inside a group is two alternatives; outside, a value with choices.
    if (opens + closes > 0 && core.find('|') != std::string::npos && core.starts_with("--")) {
      std::istringstream parts(core);
      bool first = true;
      for (std::string part; std::getline(parts, part, '|');) {
        if (!first) tokens.push_back("|");
        tokens.push_back(part);
        first = false;
      }
    } else if (!core.empty()) {
      tokens.push_back(core);
    }
    tokens.insert(tokens.end(), closes, "]");
  }
  // Variant v takes alternative min(v, n - 1) of each group of n: as many variants as the largest
  // group has alternatives.
  size_t variants = 1;
  for (size_t i = 0, depth = 0, alternatives = 0; i < tokens.size(); ++i) {
    if (tokens[i] == "[") {
      if (depth++ == 0) alternatives = 1;
    } else if (tokens[i] == "]") {
      if (--depth == 0) variants = std::max(variants, alternatives);
    } else if (tokens[i] == "|" && depth == 1) {
      ++alternatives;
    }
  }
  std::vector<std::vector<std::string>> commands;
  for (size_t variant = 0; variant < variants; ++variant) {
    std::vector<std::string> args;
    size_t depth = 0, alternative = 0, group_alternatives = 0;
    size_t chosen = 0;
    bool after_dashes = false;
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string& token = tokens[i];
      if (token == "[") {
        if (depth++ == 0) {
          // Count this group's alternatives to choose one.
          group_alternatives = 1;
          for (size_t j = i + 1, d = 1; j < tokens.size() && d > 0; ++j) {
            if (tokens[j] == "[") ++d;
            if (tokens[j] == "]") --d;
            if (tokens[j] == "|" && d == 1) ++group_alternatives;
          }
          chosen = std::min(variant, group_alternatives - 1);
          alternative = 0;
        }
        continue;
      }
      if (token == "]") {
        --depth;
        continue;
      }
      if (token == "|") {
        if (depth == 1) ++alternative;
        continue;
      }
      if (depth > 0 && alternative != chosen) continue;
      if (token == "--") after_dashes = true;
      if (after_dashes) {
        args.push_back(token);
        continue;
      }
      const std::string option = args.empty() ? "" : args.back();
      args.push_back(Fill(token, option.starts_with("--") ? option : ""));
    }
    commands.push_back(args);
  }
  return commands;
}

// Runs every command line of `docs` parse-only; the failures, one message each.
std::vector<std::string> Failures(const std::vector<DocCommand>& docs, size_t* runs) {
  setenv("FAULTLINE_PARSE_ONLY", "1", 1);
  std::vector<std::string> failures;
  for (const DocCommand& doc : docs) {
    for (const std::vector<std::string>& args : Expand(doc.text)) {
      ++*runs;
      const CommandResult result = RunFaultline(args);
      if (result.status == 0) continue;
      // A mention may leave out what the command requires ("--in is required", "file is
      // required", "--trace: 1 required TEXT missing", "A subcommand is required").
      if (!doc.complete && result.output.find("required") != std::string::npos &&
          result.output.find("not expected") == std::string::npos) {
        continue;
      }
      std::string command;
      for (const std::string& arg : args) command.append(" ").append(arg);
      failures.push_back(doc.where + ": `" + doc.text + "` does not parse (as faultline" + command +
                         "): " + result.output);
    }
  }
  unsetenv("FAULTLINE_PARSE_ONLY");
  return failures;
}

std::vector<std::filesystem::path> DocumentationFiles() {
  const std::filesystem::path root(FAULTLINE_SOURCE_ROOT);
  std::vector<std::filesystem::path> files = {root / "README.md", root / "profiles/README.md"};
  for (const auto& entry : std::filesystem::directory_iterator(root / "docs")) {
    if (entry.path().extension() == ".md") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The examples of every command's --help ("Example: faultline stats --json; faultline ..."):
// each `faultline ...` up to a ';', a double space or the end of its line (`\` continues it).
std::vector<DocCommand> HelpExamples() {
  std::vector<DocCommand> commands;
  const std::vector<std::vector<std::string>> helps = {{"--help"},
                                                       {"run", "--help"},
                                                       {"replay", "--help"},
                                                       {"validate", "--help"},
                                                       {"apply", "--help"},
                                                       {"heal", "--help"},
                                                       {"show", "--help"},
                                                       {"stats", "--help"},
                                                       {"trace", "--help"},
                                                       {"trace", "start", "--help"},
                                                       {"trace", "stop", "--help"},
                                                       {"trace", "status", "--help"},
                                                       {"trace", "generate", "--help"},
                                                       {"demo", "--help"}};
  for (const std::vector<std::string>& args : helps) {
    const CommandResult help = RunFaultline(args);
    EXPECT_EQ(help.status, 0) << help.output;
    std::string name = "faultline";
    for (const std::string& arg : args) name.append(" ").append(arg);
    // `\` at the end of a line continues it.
    std::string text;
    for (size_t i = 0; i < help.output.size(); ++i) {
      if (help.output[i] == '\\' && i + 1 < help.output.size() && help.output[i + 1] == '\n') {
        i += 2;
        while (i < help.output.size() && help.output[i] == ' ') ++i;
        if (!text.ends_with(" ")) text.push_back(' ');
        --i;
        continue;
      }
      text.push_back(help.output[i]);
    }
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
      for (size_t at = line.find("faultline "); at != std::string::npos;
           at = line.find("faultline ", at + 1)) {
        if (at > 0 && line[at - 1] != ' ' && line[at - 1] != '`') continue;
        const size_t end = std::min({line.find(';', at), line.find("  ", at), line.size()});
        std::string command = line.substr(at, end - at);
        if (command.ends_with("`")) command.pop_back();
        // "faultline run` (...)": a mention, not a command.
        if (command.find('`') != std::string::npos) continue;
        if (!StartsCommand(Trim(command), /*known_only=*/true)) continue;
        commands.push_back({name, Trim(command)});
      }
    }
  }
  return commands;
}

TEST(DocCommands, EveryHelpExampleParses) {
  const std::vector<DocCommand> commands = HelpExamples();
  size_t runs = 0;
  for (const std::string& failure : Failures(commands, &runs)) ADD_FAILURE() << failure;
  std::printf("[ measured ] %zu command lines in --help texts\n", commands.size());
  EXPECT_GE(commands.size(), 15u) << "the extraction finds too few: is it still working?";
}

TEST(DocCommands, EveryDocumentedCommandLineParses) {
  const std::filesystem::path root(FAULTLINE_SOURCE_ROOT);
  std::vector<DocCommand> commands;
  for (const std::filesystem::path& file : DocumentationFiles()) {
    const std::vector<DocCommand> found =
        Extract(std::filesystem::relative(file, root).string(), ReadFile(file));
    commands.insert(commands.end(), found.begin(), found.end());
  }
  size_t runs = 0;
  const std::vector<std::string> failures = Failures(commands, &runs);
  for (const std::string& failure : failures) ADD_FAILURE() << failure;
  std::printf("[ measured ] %zu documented command lines, %zu runs (synopsis alternatives)\n",
              commands.size(), runs);
  EXPECT_GE(commands.size(), 60u) << "the extraction finds too few: is it still working?";
}

// The check can fail: an option that does not exist, a value the option refuses, a missing
// subcommand, are each caught.
TEST(DocCommands, ADocumentedOptionThatDoesNotExistFails) {
  const std::string markdown =
      "Run `faultline stats --nonexistent` for fun; `faultline replay --trace` is fine.\n"
      "```sh\n"
      "build/faultline trace start t.yaml --speed 0   # a bad value\n"
      "faultline replay --in a.pcap \\\n"
      "    --out b.pcap --profile p.yaml --frobnicate\n"
      "faultline frobnicate\n"
      "faultline heal [--partitions | --impairments | --everything]\n"
      "```\n";
  const std::vector<DocCommand> commands = Extract("bad.md", markdown);
  ASSERT_EQ(commands.size(), 6u);
  EXPECT_FALSE(commands[1].complete) << "a mention in prose";
  EXPECT_EQ(commands[3].text,
            "faultline replay --in a.pcap  --out b.pcap --profile p.yaml --frobnicate");
  EXPECT_EQ(commands[3].where, "bad.md:4");
  size_t runs = 0;
  const std::vector<std::string> failures = Failures(commands, &runs);
  EXPECT_EQ(runs, 8u) << "three alternatives of heal's group";
  ASSERT_EQ(failures.size(), 5u);
  EXPECT_NE(failures[0].find("bad.md:1: `faultline stats --nonexistent` does not parse"),
            std::string::npos)
      << failures[0];
  EXPECT_NE(failures[4].find("--everything"), std::string::npos) << failures[4];
}

TEST(DocCommands, SynopsesExpandToEveryAlternative) {
  const std::vector<std::vector<std::string>> expanded =
      Expand("faultline stats [--json|--prometheus] [--watch DUR [--count N]] [--control SOCK]");
  ASSERT_EQ(expanded.size(), 2u);
  EXPECT_EQ(expanded[0], (std::vector<std::string>{"stats", "--json", "--watch", "1s", "--count",
                                                   "2", "--control", "placeholder.yaml"}));
  EXPECT_EQ(expanded[1][1], "--prometheus");
  EXPECT_EQ(Expand("faultline trace start FILE [--at +DUR|RFC3339]  # when")[0],
            (std::vector<std::string>{"trace", "start", "placeholder.yaml", "--at", "+1s"}));
  EXPECT_EQ(
      Expand("faultline run --on-exit drop|drain -- -l 1 -a ... X")[0],
      (std::vector<std::string>{"run", "--on-exit", "drop", "--", "-l", "1", "-a", "...", "X"}));
}

}  // namespace
}  // namespace faultline
