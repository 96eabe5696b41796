#include "control/cli/trace_generate_command.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include "control/base/units.h"
#include "control/profile/profile_parser.h"
#include "control/testbed/subprocess.h"
#include "control/trace/topology.h"
#include "control/trace/trace_generator.h"
#include "control/trace/trace_parser.h"
#include "dataplane/config/trace_spec.h"

namespace faultline {

namespace {

// An option taking a positive number ("1440", "0.5"): *value gets it and *text it as written
// (for the command line in the trace's header).
CLI::Option* AddPositiveNumber(CLI::App* app, const std::string& name, double* value,
                               std::string* text, const std::string& help) {
  return app->add_option_function<std::string>(
      name,
      [name, value, text](const std::string& given) {
        const std::optional<double> number = ParsePositiveNumber(given);
        if (!number) throw CLI::ValidationError(name, "'" + given + "' is not a positive number");
        *value = *number;
        *text = given;
      },
      help);
}

}  // namespace

std::unique_ptr<TraceGenerateCommand> AddTraceGenerateCommand(CLI::App* trace) {
  auto command = std::unique_ptr<TraceGenerateCommand>(new TraceGenerateCommand());
  TraceGenerateCommand* c = command.get();
  CLI::App* app = trace->add_subcommand(
      "generate",
      "Generate a trace from published datacenter failure statistics (docs/traces.md): "
      "failures\n"
      "of the topology's devices drawn as Poisson processes with the repair times the sources\n"
      "report, written as a trace file (YAML) whose inline profile names every rack and node.\n"
      "Example: faultline trace generate --model gill2011 --topology "
      "profiles/topology-example.yaml \\\n"
      "           --duration 30d --compress 1440 --seed 7 --out month.trace.yaml");
  c->app_ = app;
  app->add_option("--model", c->model,
                  "Failure model: gill2011 (Gill et al., SIGCOMM 2011: ToR, aggregation switch, "
                  "load balancer and link failures, each isolating what it serves) or dean2009 "
                  "(Dean, LADIS 2009: the first year of a cluster: wonky racks with 50% loss, "
                  "network maintenance, router failures). Example: --model gill2011")
      ->required()
      ->check(CLI::IsMember(ModelNames()));
  app->add_option("--topology", c->topology,
                  "Topology (YAML, docs/traces.md): racks of node addresses, optional "
                  "aggregation switches and load balancers. Example: --topology "
                  "profiles/topology-example.yaml")
      ->required()
      ->transform(InstalledFileLookup());
  app->add_option_function<std::string>(
         "--duration",
         [c](const std::string& text) {
           std::string error;
           const std::optional<uint64_t> ns = ParseDuration(text, &error);
           if (!ns) throw CLI::ValidationError("--duration", error);
           if (*ns == 0) throw CLI::ValidationError("--duration", "must be more than 0");
           c->duration_ns = *ns;
           c->duration_text = text;
         },
         "Model time the trace covers, before --compress. Example: --duration 30d")
      ->type_name("DURATION")
      ->required();
  AddPositiveNumber(app, "--compress", &c->compress, &c->compress_text,
                    "Divide every time by X: 30 days of failures play in 30 minutes with 1440 "
                    "(default 1: real time). Example: --compress 1440")
      ->type_name("X");
  app->add_option_function<uint64_t>(
      "--seed", [c](uint64_t seed) { c->seed = seed; },
      "Random seed: the same seed, model, topology and options give the same file everywhere "
      "(without it one is drawn and printed). Example: --seed 7");
  app->add_option("--out", c->out, "Write the trace here (default: standard output)")
      ->type_name("FILE");
  AddPositiveNumber(
      app, "--scale", &c->scale, &c->scale_text,
      "Multiply every failure rate by X: a small test rig standing in for X times as many "
      "devices (default 1). Example: --scale 100")
      ->type_name("X");
  return command;
}

namespace {
constexpr char kPrefix[] = "faultline trace generate";
}  // namespace

int TraceGenerateCommand::Run() {
  std::string error;
  const std::optional<Topology> parsed_topology = ParseTopologyFile(topology, &error);
  if (!parsed_topology) {
    std::fprintf(stderr, "%s: %s\n", kPrefix, error.c_str());
    return 2;
  }
  const TraceGenerateOptions options = Options();
  // The trace's times (a --compress below 1 stretches time) within what a trace may last.
  if (static_cast<double>(duration_ns) / compress > static_cast<double>(kMaxTraceTimeNs)) {
    std::fprintf(stderr,
                 "%s: --duration / --compress is longer than %s, the longest a trace may last\n",
                 kPrefix, FormatDuration(kMaxTraceTimeNs).c_str());
    return 2;
  }
  const std::optional<GeneratedTrace> trace = GenerateTrace(*parsed_topology, options, &error);
  if (!trace) {
    std::fprintf(stderr, "%s: %s\n", kPrefix, error.c_str());
    return 2;
  }
  if (!Writable(*trace)) return 2;
  return Write(*trace);
}

TraceGenerateOptions TraceGenerateCommand::Options() const {
  TraceGenerateOptions options;
  options.model = model;
  options.duration_ns = duration_ns;
  options.compress = compress;
  options.scale = scale;
  if (seed) {
    options.seed = *seed;
  } else {
    std::random_device device;
    options.seed = (static_cast<uint64_t>(device()) << 32) | device();
    std::fprintf(stderr, "%s: seed %llu (drawn; --seed repeats it)\n", kPrefix,
                 static_cast<unsigned long long>(options.seed));
  }
  options.command = std::string(kPrefix) + " --model " + ShellWord(model) + " --topology " +
                    ShellWord(topology) + " --duration " + ShellWord(duration_text) +
                    (compress_text.empty() ? "" : " --compress " + ShellWord(compress_text)) +
                    " --seed " + std::to_string(options.seed) +
                    (scale_text.empty() ? "" : " --scale " + ShellWord(scale_text));
  return options;
}

bool TraceGenerateCommand::Writable(const GeneratedTrace& trace) const {
  std::string error;
  // Never write a trace `validate` would refuse: the inline profile must be one the profile
  // parser takes (a topology can be too large for its limits: a group per device, two rules per
  // rack for dean2009), and the events must be within a trace's.
  if (!ParseProfileText(trace.profile_yaml, "inline profile", &error)) {
    std::fprintf(stderr,
                 "%s: the topology makes a profile beyond faultline's limits (docs/formats.md, "
                 "Limits): %s\n",
                 kPrefix, error.c_str());
    return false;
  }
  if (trace.events.size() > kMaxTraceEvents) {
    std::fprintf(stderr,
                 "%s: the trace would have %zu events, more than the %zu a trace may have (use a "
                 "smaller --scale or --duration)\n",
                 kPrefix, trace.events.size(), kMaxTraceEvents);
    return false;
  }
  if (trace.events.empty()) {
    // A trace needs at least one event: say why there is none and what would give some, and
    // write nothing (an empty trace would only fail later, in validate or trace start).
    double expected = 0;
    for (const FailureProcess& process : trace.processes) {
      expected += process.rate_per_year * static_cast<double>(process.targets) *
                  process.emitted_fraction * scale * static_cast<double>(duration_ns) / 1e9 /
                  kSecondsPerYear;
    }
    std::fprintf(stderr,
                 "%s: the %s model drew no failure that affects traffic in %s of model time on "
                 "%s (about %.3g expected with these rates, --scale %g), so there is no trace to "
                 "write%s. Use a longer --duration, a larger --scale, or a topology with more "
                 "racks, nodes or switches\n",
                 kPrefix, model.c_str(), duration_text.c_str(), topology.c_str(), expected, scale,
                 out.empty() ? "" : (" and " + out + " was not written").c_str());
    return false;
  }
  return true;
}

int TraceGenerateCommand::Write(const GeneratedTrace& trace) const {
  std::string error;
  const std::string text = EmitTraceYaml(trace);
  // Never write a trace that validate or trace start would refuse: anything else is a bug here.
  if (!ParseTraceText(text, out.empty() ? "generated trace" : out, "", nullptr, &error)) {
    std::fprintf(stderr, "%s: internal error: the generated trace is invalid: %s\n", kPrefix,
                 error.c_str());
    return 1;
  }
  if (out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return 0;
  }
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) {
    std::fprintf(stderr, "%s: cannot write %s\n", kPrefix, out.c_str());
    return 1;
  }
  std::fprintf(stderr, "%s: %s: %zu event(s) over %s\n", kPrefix, out.c_str(), trace.events.size(),
               FormatSeconds(static_cast<uint64_t>(
                                 std::llround(static_cast<double>(duration_ns) / compress / 1000)))
                   .c_str());
  return 0;
}

}  // namespace faultline
