#include "dataplane/runtime/replay.h"

#include <rte_eal.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <vector>

#include "dataplane/config/trace_timeline.h"
#include "dataplane/fastpath/clock.h"
#include "dataplane/fastpath/packet_meta.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/reporting/series.h"
#include "dataplane/reporting/stats.h"
#include "dataplane/runtime/eal.h"
#include "dataplane/runtime/frame_record_writer.h"
#include "dataplane/runtime/output_paths.h"
#include "dataplane/runtime/pcap_io.h"
#include "dataplane/runtime/progress_line.h"

namespace faultline {
namespace {

constexpr uint16_t kPortA = 0;
constexpr uint16_t kPortB = 1;
// Memory per mbuf offline: without hugepages the mempool keeps each ~2.4 KB object inside one
// 4 KiB page, so an mbuf costs a page (plus its share of the ring).
constexpr uint64_t kBytesPerMbuf = 4096 + 64;
// A pcap file's header and each record's, for the progress line's share of the input read.
constexpr uint64_t kPcapFileHeaderBytes = 24;
constexpr uint64_t kPcapRecordHeaderBytes = 16;

// Copies a captured frame into a chain of mbufs (as a NIC would scatter a jumbo frame).
rte_mbuf* MbufFromFrame(rte_mempool* pool, const PcapFrame& frame) {
  rte_mbuf* head = rte_pktmbuf_alloc(pool);
  if (head == nullptr) return nullptr;
  rte_mbuf* tail = head;
  uint32_t copied = 0;
  while (copied < frame.length) {
    if (copied > 0) {
      rte_mbuf* segment = rte_pktmbuf_alloc(pool);
      if (segment == nullptr || rte_pktmbuf_chain(head, segment) != 0) {
        if (segment) rte_pktmbuf_free(segment);
        rte_pktmbuf_free(head);
        return nullptr;
      }
      tail = segment;
    }
    const uint32_t chunk = std::min<uint32_t>(frame.length - copied, rte_pktmbuf_tailroom(tail));
    // Appends to the last segment (tail) and grows the chain's pkt_len.
    char* room = rte_pktmbuf_append(head, static_cast<uint16_t>(chunk));
    std::memcpy(room, frame.data + copied, chunk);
    copied += chunk;
  }
  return head;
}

// The line replay prints when it is done: frames in and out (each side's, with traffic both
// ways), drops by cause, copies and partitions' answers made, and the virtual time it spanned.
// in + duplicated + answered = out + dropped: nothing is held once replay ends.
std::string ReplaySummary(const StatsReport& report) {
  const PortReport& a = report.ports[kPortA];
  const PortReport& b = report.ports[kPortB];
  const bool both_ways = b.rx != 0 || a.tx != 0;
  std::string line = "faultline replay: " + std::to_string(a.rx + b.rx) + " frame(s) in";
  if (both_ways) line += " (a " + std::to_string(a.rx) + ", b " + std::to_string(b.rx) + ")";
  line += ", " + std::to_string(a.tx + b.tx) + " out";
  if (both_ways) line += " (to b " + std::to_string(b.tx) + ", to a " + std::to_string(a.tx) + ")";
  line += ", " + std::to_string(report.TotalDropped()) + " dropped";
  std::string causes;
  for (int cause = 0; cause < static_cast<int>(DropCause::kCount); ++cause) {
    if (report.dropped[cause] == 0) continue;
    causes += std::string(causes.empty() ? "" : ", ") +
              DropCauseName(static_cast<DropCause>(cause)) + " " +
              std::to_string(report.dropped[cause]);
  }
  if (!causes.empty()) line += " (" + causes + ")";
  uint64_t duplicated = 0, answered = 0;
  for (const RuleReport& rule : report.rules) duplicated += rule.total.duplicated;
  for (const PartitionReport& partition : report.partitions) answered += partition.total.answered;
  line += ", " + std::to_string(duplicated) + " duplicated";
  if (answered != 0) line += ", " + std::to_string(answered) + " answered by partitions";
  char span[64];
  std::snprintf(span, sizeof(span), ", %.6f s of virtual time",
                static_cast<double>(report.elapsed_ns) / 1e9);
  return line + span;
}

// The input captures, opened before anything else starts (a missing or unreadable one, or one
// of a link type replay cannot take, is a usage error).
struct ReplayInputs {
  PcapReader a, b;
  bool has_b = false;

  bool Open(const ReplayOptions& options, std::string* error) {
    has_b = !options.in_b.empty();
    return a.Open(options.in_a, error) && (!has_b || b.Open(options.in_b, error));
  }
};

class ReplayRun {
 public:
  // `identities`: those the starting profile was compiled with (trace steps keep using them).
  ReplayRun(const ReplayOptions& options, ReplayInputs* inputs, const PipelineConfig& config,
            rte_mempool* pool, RuleIdentities* identities)
      : options_(options),
        inputs_(*inputs),
        pool_(pool),
        identities_(identities),
        pipeline_(config, TimeBase::Nanoseconds().wheel_tick_shift, 0) {
    if (options_.trace) {
      timeline_ = std::make_unique<TraceTimeline>(*options_.trace);
      trace_state_ =
          TraceState{.spec = config.profile->spec, .rules_active = config.profile->rules_active};
      next_step_ = timeline_->Next();
    }
  }

  // A run that failed half-way frees what its pipeline holds without recording it.
  ~ReplayRun() { pipeline_.set_recorder(nullptr); }

  int Run() {
    if (!OpenOutputs() || !StartRecording()) return status_;
    PcapReader& reader_a = inputs_.a;
    PcapReader& reader_b = inputs_.b;
    PcapFrame frame_a, frame_b;
    bool have_a = reader_a.Next(&frame_a);
    bool have_b = inputs_.has_b && reader_b.Next(&frame_b);
    bool first = true;
    uint64_t first_ns = 0, frames = 0, bytes = kPcapFileHeaderBytes;
    ProgressLine progress(stderr, InputBytes());
    while (have_a || have_b) {
      // Merge the two directions by time; side a first on a tie, so the order is defined.
      const bool take_a = have_a && (!have_b || frame_a.timestamp_ns <= frame_b.timestamp_ns);
      const PcapFrame& frame = take_a ? frame_a : frame_b;
      if (first) {
        clock_ = VirtualClock(frame.timestamp_ns);
        first_ns = frame.timestamp_ns;
        pipeline_.set_epoch(first_ns);
        first = false;
        if (!OpenSeries(first_ns)) return status_;
      }
      if (!clock_.AdvanceTo(frame.timestamp_ns)) ++clock_backwards_;
      SampleSeries(clock_.Now());
      if (!ApplyTraceSteps(first_ns)) return status_;
      Receive(take_a ? kPortA : kPortB, frame);
      bytes += kPcapRecordHeaderBytes + frame.length;
      progress.Update(++frames, bytes);
      if (take_a) {
        have_a = reader_a.Next(&frame_a);
      } else {
        have_b = reader_b.Next(&frame_b);
      }
    }
    // Frames still in flight when the input ends are delivered all the same, also when an input
    // was cut short: what it held up to the cut is replayed in full. With a series, interval by
    // interval, so each counts what left in it.
    while (series_ && pipeline_.held() != 0) SampleSeries(next_boundary_);
    pipeline_.AdvanceAll();
    Transmit();
    progress.Finish();
    if (!FinishRecording()) return status_;
    std::string error;
    if (!writer_b_.Close(&error) || !writer_a_.Close(&error)) return Fail(1, error);
    if (!CloseSeries()) return status_;
    const int status = WriteStats(clock_.Now() - first_ns);
    if (status != 0) return status;
    bool whole = true;
    for (const PcapReader* reader : {&reader_a, &reader_b}) {
      if (reader->end() != PcapReader::End::kTruncated &&
          reader->end() != PcapReader::End::kDamaged) {
        continue;
      }
      std::fprintf(stderr,
                   "faultline replay: %s; the %lu record(s) before it were replayed and the "
                   "outputs and statistics written (exit status 2: the input was not whole)\n",
                   reader->error().c_str(), reader->records());
      whole = false;
    }
    return whole ? 0 : 2;
  }

 private:
  // The inputs' size, for the progress line's percentage.
  uint64_t InputBytes() const {
    std::error_code error;
    uint64_t total = 0;
    for (const std::string& path : {options_.in_a, options_.in_b}) {
      if (path.empty()) continue;
      const auto size = std::filesystem::file_size(path, error);
      if (!error) total += size;
    }
    return total;
  }

  // The series file and its header, once the first frame set the clock.
  bool OpenSeries(uint64_t first_ns) {
    if (options_.series.empty()) return true;
    series_file_.open(options_.series, std::ios::trunc);
    if (!series_file_) {
      Fail(1, "cannot write " + options_.series);
      return false;
    }
    const ProfileSpec& spec = pipeline_.profile() ? pipeline_.profile()->spec : ProfileSpec{};
    nlohmann::json header = {
        {"source", "replay"},
        {"start_ns", first_ns},
        {"interval_ns", options_.series_interval_ns},
        {"seed", pipeline_.profile() ? nlohmann::json(pipeline_.profile()->seed) : nullptr},
        {"profile", ProfileSource()},
        {"rules", SeriesRulesJson(spec)}};
    series_ = std::make_unique<SeriesRecorder>(header);
    series_->SetSink([this](const std::string& line) { series_file_ << line << "\n"; });
    next_boundary_ = first_ns + options_.series_interval_ns;
    return true;
  }

  std::string ProfileSource() const {
    if (!options_.trace_path.empty()) return "trace " + options_.trace_path;
    if (!options_.profile_path.empty()) return options_.profile_path;
    if (options_.delay_ns != 0) return "--delay " + std::to_string(options_.delay_ns) + " ns";
    return "none";
  }

  // The interval lines of every boundary up to `now`: what departed by the boundary is sent
  // first, so an interval counts the frames that left in it.
  void SampleSeries(uint64_t now) {
    while (series_ && next_boundary_ <= now) {
      pipeline_.Advance(next_boundary_);
      Transmit();
      series_->Sample(next_boundary_, SeriesReport());
      next_boundary_ += options_.series_interval_ns;
    }
  }

  StatsReport SeriesReport() const {
    StatsReport report = Summarize({&pipeline_.counters()}, 2);
    SummarizeRules({&pipeline_}, &report);
    return report;
  }

  // The last (partial) interval, ending at the last departure, and the whole run's histograms.
  bool CloseSeries() {
    if (!series_) return true;
    const uint64_t end = std::max(clock_.Now(), last_departure_);
    SampleSeries(end);
    const StatsReport report = SeriesReport();
    if (end + options_.series_interval_ns > next_boundary_) series_->Sample(end, report);
    series_file_ << series_->HistogramLine(end, report) << "\n";
    series_file_.close();
    if (!series_file_) {
      Fail(1, "cannot write " + options_.series);
      return false;
    }
    return true;
  }

  int Fail(int code, const std::string& message) {
    std::fprintf(stderr, "faultline replay: %s\n", message.c_str());
    status_ = code;
    return code;
  }

  // Opens the output captures (their paths were checked before the EAL started). Every frame
  // leaves as Ethernet, whatever the inputs' link type (pcap_io.h).
  bool OpenOutputs() {
    std::string error;
    if (!writer_b_.Open(options_.out_b, DLT_EN10MB, &error) ||
        (!options_.out_a.empty() && !writer_a_.Open(options_.out_a, DLT_EN10MB, &error))) {
      Fail(1, error);
      return false;
    }
    return true;
  }

  // --record: lossless (the replay waits for the writer); times are the captures' (virtual).
  bool StartRecording() {
    if (options_.record.empty()) return true;
    std::string error;
    recording_ = FrameRecordWriter::Open(options_.record,
                                         RecordHeaderNow(pipeline_.profile(), /*virtual=*/true),
                                         {.virtual_time = true}, 1, /*lossless=*/true, &error);
    if (recording_ == nullptr) {
      Fail(1, error);
      return false;
    }
    pipeline_.set_recorder(recording_->recorder(0));
    recording_->Start();
    return true;
  }

  bool FinishRecording() {
    if (recording_ == nullptr) return true;
    recording_->recorder(0)->Flush();
    const std::string error = recording_->Finish();
    if (!error.empty()) {
      Fail(1, error);
      return false;
    }
    std::fprintf(stderr, "faultline replay: recorded %lu frame fate(s) in %s\n",
                 recording_->written(), options_.record.c_str());
    return true;
  }

  // Applies every trace step due by the clock's time (time zero: `first_ns`), exactly then: the
  // frame at hand and every later one see the new profile.
  bool ApplyTraceSteps(uint64_t first_ns) {
    while (next_step_ && first_ns + next_step_->at_ns <= clock_.Now()) {
      const TraceStep step = *next_step_;
      const uint64_t at = first_ns + step.at_ns;
      const std::string problem = timeline_->Apply(step, &trace_state_);
      std::string error;
      if (problem.empty()) {
        try {
          const CompiledProfile& previous = *pipeline_.profile();
          auto next = CompileProfile(trace_state_.spec, previous.time_base, previous.seed,
                                     CompileOptions{.rules_active = trace_state_.rules_active,
                                                    .activation = at,
                                                    .identities = identities_,
                                                    .previous = &previous});
          error = pipeline_.Prepare(*next);
          if (error.empty()) pipeline_.SwapProfile(std::move(next));
        } catch (const std::exception& failure) {
          error = failure.what();
        }
      } else {
        error = problem;
      }
      if (!error.empty()) {
        Fail(1, "trace step " + std::to_string(step.index) + " (" + step.description + ") at " +
                    std::to_string(step.at_ns) + " ns: " + error);
        return false;
      }
      // Virtual time: applied exactly when scheduled.
      trace_events_.push_back(
          TraceStepJson(step, *options_.trace, step.at_ns, step.at_ns, "applied"));
      if (series_) {
        const SeriesEvent event = TraceStepEvent(step, *options_.trace, at);
        series_->Event(at, event.kind, event.detail, event.until_ns);
      }
      last_step_index_ = step.index;
      next_step_ = timeline_->Next();
    }
    return true;
  }

  nlohmann::json TraceReport() const {
    if (!options_.trace) return nullptr;
    TraceProgress progress;
    progress.name = options_.trace->name;
    progress.state = next_step_ ? "running" : "finished";
    // Virtual time: time zero is the earliest frame, and every step applies on time.
    progress.steps_applied = trace_events_.size();
    if (progress.steps_applied) progress.event_index = last_step_index_;
    progress.lateness_ns.counts[0] = progress.lateness_ns.total = progress.steps_applied;
    progress.events = trace_events_;
    progress.next = next_step_;
    return TraceProgressJson(progress);
  }

  void Receive(uint16_t port, const PcapFrame& frame) {
    const uint64_t now = clock_.Now();
    rte_mbuf* packet = MbufFromFrame(pool_, frame);
    if (packet == nullptr) {
      // The pool holds hold + margin mbufs, so this only happens with very long chains.
      pipeline_.counters().rx[port].Add(1);
      pipeline_.counters().Drop(DropCause::kBufferExhausted);
      if (FrameRecorder* recorder = pipeline_.recorder()) {
        recorder->Add(FrameRecord{.arrival = now,
                                  .departure = 0,
                                  .flow_hash = 0,
                                  .length = frame.length,
                                  .rule = kNoRule,
                                  .direction = static_cast<uint8_t>(port & 1),
                                  .fate = kFateDropped,
                                  .cause = static_cast<uint8_t>(DropCause::kBufferExhausted),
                                  .copy = kCopyOriginal,
                                  .out_port = static_cast<uint8_t>(port ^ 1),
                                  .reserved = 0});
      }
    } else {
      packet->port = port;
      Meta(packet)->original_length = frame.original_length;
      pipeline_.Ingest(port, &packet, 1, now);
    }
    pipeline_.Advance(now);
    Transmit();
  }

  void Transmit() {
    while (rte_mbuf* packet = pipeline_.PopReady()) {
      const PacketMeta* meta = Meta(packet);
      PcapWriter& writer = meta->out_port == kPortB ? writer_b_ : writer_a_;
      if (!writer.is_open()) {
        // Only partitions' answers go back to side a without --in-b; without --out-b they have
        // nowhere to go.
        pipeline_.counters().Drop(DropCause::kNoOutput);
        if (FrameRecorder* recorder = pipeline_.recorder()) {
          recorder->Dropped(packet, DropCause::kNoOutput);
        }
        rte_pktmbuf_free(packet);
        continue;
      }
      const uint32_t length = rte_pktmbuf_pkt_len(packet);
      const uint8_t* bytes = rte_pktmbuf_mtod(packet, const uint8_t*);
      if (packet->nb_segs > 1) {
        scratch_.resize(length);
        bytes = static_cast<const uint8_t*>(rte_pktmbuf_read(packet, 0, length, scratch_.data()));
      }
      writer.Write(meta->departure, bytes, length, std::max(length, meta->original_length));
      last_departure_ = std::max(last_departure_, meta->departure);
      // Virtual time: the frame leaves exactly at its departure (lateness 0).
      pipeline_.RecordTransmit(meta->out_port, meta->rule_slot, meta->departure - meta->arrival, 0);
      if (FrameRecorder* recorder = pipeline_.recorder()) {
        recorder->Transmitted(packet, meta->departure);
      }
      pipeline_.counters().tx[meta->out_port].Add(1);
      rte_pktmbuf_free(packet);
    }
  }

  int WriteStats(uint64_t span_ns) {
    StatsReport report = Summarize({&pipeline_.counters()}, 2);
    report.elapsed_ns = span_ns;
    report.clock_backwards = clock_backwards_;
    SummarizeRules({&pipeline_}, &report);
    SummarizeLatency({&pipeline_}, &report);
    report.trace = TraceReport();
    const uint64_t exhausted = report.dropped[static_cast<int>(DropCause::kBufferExhausted)];
    if (exhausted != 0) {
      std::fprintf(stderr,
                   "faultline replay: %lu frame(s) dropped as buffer_exhausted: more than "
                   "--hold %lu in flight, or no mbuf left for a copy\n",
                   exhausted, options_.hold);
    }
    const uint64_t no_output = report.dropped[static_cast<int>(DropCause::kNoOutput)];
    if (no_output != 0) {
      std::fprintf(stderr,
                   "faultline replay: %lu frame(s) to side a dropped as no-output (partitions' "
                   "answers): --out-b FILE keeps them\n",
                   no_output);
    }
    const uint64_t clamped = writer_a_.clamped() + writer_b_.clamped();
    if (clamped != 0) {
      std::fprintf(stderr,
                   "faultline replay: %lu frame(s) depart after 2106-02-07T06:28:15Z, the last "
                   "time a pcap record holds; written with that time\n",
                   clamped);
    }
    if (!options_.stats_json.empty()) {
      std::ofstream out(options_.stats_json);
      out << ToJson(report).dump(2) << "\n";
      if (!out) return Fail(1, "cannot write " + options_.stats_json);
    }
    std::printf("%s\n", ReplaySummary(report).c_str());
    return 0;
  }

  const ReplayOptions& options_;
  ReplayInputs& inputs_;
  rte_mempool* pool_;
  RuleIdentities* identities_;
  Pipeline pipeline_;
  std::unique_ptr<TraceTimeline> timeline_;
  TraceState trace_state_;
  std::optional<TraceStep> next_step_;
  nlohmann::json trace_events_ = nlohmann::json::array();
  uint64_t last_step_index_ = 0;
  VirtualClock clock_;
  PcapWriter writer_a_, writer_b_;                // writer_a_ only with --out-b
  std::vector<uint8_t> scratch_;                  // linearises multi-segment frames for the writer
  std::unique_ptr<FrameRecordWriter> recording_;  // --record
  uint64_t clock_backwards_ = 0;
  int status_ = 0;
  std::unique_ptr<SeriesRecorder> series_;  // with --series
  std::ofstream series_file_;
  uint64_t next_boundary_ = 0;   // the end of the series' current interval
  uint64_t last_departure_ = 0;  // of the frames written
};

// The profile replay starts with: the trace's own, else --profile, else --delay's, else none.
ProfileSpec ReplayStartingProfile(const ReplayOptions& options) {
  if (options.trace && options.trace->profile) return *options.trace->profile;
  return StartingProfile(options.profile, options.delay_ns);
}

// DPDK memory of the largest profile one round of the trace leads to.
uint64_t LargestTraceProfileBytes(const TraceSpec& trace, const ProfileSpec& start) {
  TraceTimeline timeline(trace);
  TraceState state{.spec = start};
  uint64_t largest = ProfileMemoryBytes(start);
  for (auto step = timeline.Next(); step && step->round == 0; step = timeline.Next()) {
    if (!timeline.Apply(*step, &state).empty()) break;  // reported when replay reaches it
    largest = std::max(largest, ProfileMemoryBytes(state.spec));
  }
  return largest;
}

// Compiles `start` into config->profile as `run` does. A seed is drawn (and said) only for a
// profile or trace given: --delay's profile draws nothing random.
bool CompileStartingProfile(const ReplayOptions& options, const ProfileSpec& start,
                            RuleIdentities* identities, PipelineConfig* config) {
  const TimeBase time_base = TimeBase::Nanoseconds();
  bool drawn = false;
  const uint64_t seed = options.profile || options.trace ? ResolveSeed(options.seed, start, &drawn)
                                                         : options.seed.value_or(0);
  if (drawn) std::fprintf(stderr, "faultline replay: seed %lu (drawn; --seed repeats it)\n", seed);
  try {
    config->profile =
        CompileProfile(start, time_base, seed, CompileOptions{.identities = identities});
  } catch (const std::exception& failure) {
    std::fprintf(stderr, "faultline replay: %s\n", failure.what());
    return false;
  }
  config->flow_idle = FlowIdleTimeout(time_base, ProfileDelayHorizonNs(start));
  // As live: room for a trace's or profile's reorder bound up to max-displacement 14.
  if (options.trace) config->min_displacement_ring = kChangeableDisplacementRing;
  return true;
}

}  // namespace

int RunReplay(const ReplayOptions& options) {
  // Every file is checked before the first frame: no output may destroy an input, and none may
  // be found unwritable only when the run ends.
  const std::string problem = CheckOutputPaths({{"--in", options.in_a},
                                                {"--in-b", options.in_b},
                                                {"--profile", options.profile_path},
                                                {"--trace", options.trace_path}},
                                               {{"--out", options.out_b},
                                                {"--out-b", options.out_a},
                                                {"--stats-json", options.stats_json},
                                                {"--series", options.series},
                                                {"--record", options.record}});
  if (!problem.empty()) {
    std::fprintf(stderr, "faultline replay: %s\n", problem.c_str());
    return 2;
  }
  std::string error;
  ReplayInputs inputs;
  if (!inputs.Open(options, &error)) {
    std::fprintf(stderr, "faultline replay: %s\n", error.c_str());
    return 2;
  }
  // Size the pool for the hold limit plus one jumbo chain; EAL memory follows from it.
  const uint64_t pool_size = options.hold + 64;
  // Group tables (rte_lpm, rte_lpm6: 64 MiB each, and MAC hashes) come on top, for every
  // snapshot replay holds at once. Without a trace that is the profile; with one, the snapshot in
  // force and the next, compiled while the other still runs (nothing else keeps one: the
  // pipeline lets the starting profile go at the first step), each at most the largest profile
  // one round of the trace leads to.
  const ProfileSpec start = ReplayStartingProfile(options);
  const uint64_t table_bytes = options.trace ? 2 * LargestTraceProfileBytes(*options.trace, start)
                                             : ProfileMemoryBytes(start);
  const unsigned memory_mb =
      static_cast<unsigned>((pool_size * kBytesPerMbuf + table_bytes) / (1 << 20) + 64);
  // Released in reverse order on every exit: the run (its pipeline frees what it holds), the
  // pool, then EAL.
  const std::unique_ptr<EalSession> eal = EalSession::Start(OfflineEalArgs(memory_mb), &error);
  if (eal == nullptr) {
    std::fprintf(stderr, "faultline replay: %s\n", error.c_str());
    return 1;
  }
  MbufPool pool(rte_pktmbuf_pool_create("faultline_replay", static_cast<uint32_t>(pool_size), 0, 0,
                                        RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id()));
  if (pool == nullptr) {
    std::fprintf(stderr, "faultline replay: cannot allocate %lu mbufs\n", pool_size);
    return 1;
  }
  if (!RegisterPacketMeta(&error)) {
    std::fprintf(stderr, "faultline replay: %s\n", error.c_str());
    return 1;
  }
  PipelineConfig config;
  config.hold_limit = options.hold;
  config.derive_port_latency = true;  // two sides, ports 0 and 1
  RuleIdentities identities;
  // A profile, a trace or --delay (its one-rule profile, as `run` has it) is compiled; with none
  // of them the pipeline forwards every frame untouched without parsing it.
  if (options.profile || options.trace || options.delay_ns != 0) {
    if (!CompileStartingProfile(options, start, &identities, &config)) return 1;
  }
  auto run = std::make_unique<ReplayRun>(options, &inputs, config, pool.get(), &identities);
  config.profile.reset();  // the pipeline holds it, and lets it go at the first trace step
  return run->Run();
}

}  // namespace faultline
