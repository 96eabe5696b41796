// The fleet file of `faultline fleet` (docs/formats.md, "fleet"): the boxes that act as one, each
// with its API address, its token file and the groups whose traffic its ports carry.
//
//   version: 1
//   boxes:
//     east: {api: http://10.0.0.1:8080, token-file: /etc/faultline/east.token,
//            carries: [rack-a, rack-b]}
//     west: {api: https://10.0.0.2:8443, ca-file: ca.pem, carries: [rack-c]}
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace faultline {

struct FleetBox {
  std::string name;                  // the key in `boxes:`
  std::string api;                   // http://HOST:PORT or https://HOST:PORT
  std::string token_file;            // "" without one; relative paths resolved against the file
  std::string ca_file;               // https: the CA (PEM) that signed its certificate; "" system
  std::vector<std::string> carries;  // group names (may be empty)
  int line = 0;                      // where the box is written, for messages
};

struct Fleet {
  std::vector<FleetBox> boxes;  // in file order; at least one
};

// Reads and validates the fleet file at `path`. On a problem returns nullopt and sets *error to
// "PATH:LINE:COL: message" ("PATH: message" when it cannot be read).
std::optional<Fleet> ParseFleetFile(const std::string& path, std::string* error);

// The same for text in memory; relative token files resolve against `directory`.
std::optional<Fleet> ParseFleetText(const std::string& text, const std::string& name_for_errors,
                                    const std::string& directory, std::string* error);

}  // namespace faultline
