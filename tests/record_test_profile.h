// The profile of the replays whose frame record the tests check (frame_record_test,
// report_record_test): rule `lossy` (UDP port 5000): loss 10%, duplicate 10%, constant delay
// 2 ms; rule `slow` (port 5001): constant delay 3 ms.
#pragma once

namespace faultline::testing {

inline constexpr char kRecordTestProfile[] =
    "version: 1\n"
    "impairments:\n"
    "  lossy: {delay: {base: 2ms}, loss: {probability: 10%}, duplicate: {probability: 10%}}\n"
    "  slow: {delay: {base: 3ms}}\n"
    "rules:\n"
    "  - {name: lossy, match: {proto: udp, dst-port: 5000}, impairment: lossy}\n"
    "  - {name: slow, match: {proto: udp, dst-port: 5001}, impairment: slow}\n";

}  // namespace faultline::testing
