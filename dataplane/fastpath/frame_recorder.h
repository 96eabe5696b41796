// Ground truth per frame (`--record`): one fixed-size record per frame fate (transmitted,
// dropped with its cause), staged by the worker that decided it and handed in bursts to a
// single-producer single-consumer rte_ring that a non-worker thread drains into the file
// (runtime/frame_record_writer). The worker never blocks live: when the ring is full the
// records that do not fit are counted (`record_lost`), never silently lost. Offline (replay,
// virtual time) the recorder waits for the writer instead, so the record is whole.
#pragma once

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstdint>

#include "dataplane/fastpath/counters.h"
#include "dataplane/fastpath/frame_capture.h"
#include "dataplane/fastpath/packet_meta.h"

namespace faultline {

// One frame's fate, 32 bytes, little-endian, as in the file (docs/formats.md "Frame record").
// In the ring the times are the worker's clock units; the writer turns them into ns.
struct FrameRecord {
  uint64_t arrival;    // when the frame was received
  uint64_t departure;  // when the device (or the replay output) took it; 0: dropped
  uint32_t flow_hash;  // the flow key's hash (as the flow table's), 0 when not parsed
  uint32_t length;     // bytes of the frame
  uint16_t rule;       // the rule's counter id (the header names it); kNoRule: none
  uint8_t direction;   // 0: a-to-b, 1: b-to-a (the side it arrived on)
  uint8_t fate;        // RecordFate
  uint8_t cause;       // DropCause when dropped, else 0
  uint8_t copy;        // RecordCopy
  uint8_t out_port;    // the port it left (or would have left) by
  uint8_t reserved;
};
static_assert(sizeof(FrameRecord) == 32);

inline constexpr uint16_t kNoRule = 0xffff;
enum RecordFate : uint8_t { kFateTransmitted = 0, kFateDropped = 1 };
// Which frame a record is about: an input frame, the copy a duplicate rule made of it, or an
// answer a partition sent back (not an input frame).
enum RecordCopy : uint8_t { kCopyOriginal = 0, kCopyDuplicate = 1, kCopyAnswer = 2 };

class FrameRecorder {
 public:
  // `ring`: SP/SC, element size sizeof(FrameRecord). `lossless`: wait for room (replay).
  // A null ring records nothing: the recorder then only feeds a capture tap (set_capture).
  FrameRecorder(rte_ring* ring, bool lossless) : ring_(ring), lossless_(lossless) {}

  // Live capture (`faultline capture`): the fate hooks below also offer their frames to `tap`
  // (null: none). The worker sets it between bursts.
  void set_capture(CaptureTap* tap) { capture_ = tap; }
  // The hooks that only capture needs (recording keeps these frames' fates elsewhere).
  void Duplicated(const rte_mbuf* copy) {
    if (capture_ != nullptr) capture_->Duplicated(copy);
  }
  void Corrupted(const rte_mbuf* packet) {
    if (capture_ != nullptr) capture_->Corrupted(packet);
  }
  void Departing(rte_mbuf* const* packets, uint16_t n) {
    if (capture_ != nullptr) capture_->Departing(packets, n);
  }

  // Marks a received frame (before any stage reads the mark): its arrival time and side.
  static void MarkArrival(rte_mbuf* packet, uint64_t now) {
    PacketMeta* meta = Meta(packet);
    meta->arrival = now;
    meta->copy = kCopyOriginal;
    meta->rule_slot = 0;
    packet->hash.usr = 0;
  }

  // The record of `packet` as its meta says, transmitted at `departure` (0: dropped by `cause`).
  static FrameRecord Of(const rte_mbuf* packet, uint64_t departure, uint8_t fate, uint8_t cause) {
    const PacketMeta* meta = Meta(packet);
    FrameRecord record;
    record.arrival = meta->arrival;
    record.departure = departure;
    record.flow_hash = packet->hash.usr;
    record.length = rte_pktmbuf_pkt_len(packet);
    record.rule = meta->rule_slot ? static_cast<uint16_t>((meta->rule_slot - 1) >> 1) : kNoRule;
    record.direction = static_cast<uint8_t>((meta->out_port & 1) ^ 1);
    record.fate = fate;
    record.cause = cause;
    record.copy = meta->copy;
    record.out_port = static_cast<uint8_t>(meta->out_port);
    record.reserved = 0;
    return record;
  }

  void Transmitted(const rte_mbuf* packet, uint64_t now) {
    Add(Of(packet, now, kFateTransmitted, 0));
  }
  void Dropped(const rte_mbuf* packet, DropCause cause) {
    if (capture_ != nullptr) capture_->Dropped(packet, static_cast<uint8_t>(cause));
    Add(Of(packet, 0, kFateDropped, static_cast<uint8_t>(cause)));
  }
  void Add(const FrameRecord& record) {
    if (ring_ == nullptr) return;
    if (count_ == kStage) Flush();
    staged_[count_++] = record;
  }

  // Room for `n` (<= kStage) records at the end of the stage, filled by the caller and kept
  // with Commit (the transmit path fills a burst's records before the device call, which may
  // free the frames, and keeps as many as the device took).
  FrameRecord* Reserve(uint16_t n) {
    if (ring_ == nullptr) return nullptr;
    if (count_ + n > kStage) Flush();
    return staged_ + count_;
  }
  void Commit(uint16_t n) { count_ += n; }

  // Hands the staged records to the ring; what does not fit is counted in `lost` (live) or
  // waited for (lossless). Called by the worker after each poll and at the end.
  void Flush();
  uint64_t lost() const { return lost_->Get(); }
  // Where lost records are counted (the pipeline's `record_lost`).
  void CountLostIn(Counter* lost) { lost_ = lost; }

  static constexpr uint16_t kStage = 128;

 private:
  rte_ring* ring_;
  bool lossless_;
  CaptureTap* capture_ = nullptr;
  uint16_t count_ = 0;
  Counter own_lost_;
  Counter* lost_ = &own_lost_;
  FrameRecord staged_[kStage];
};

}  // namespace faultline
