// `faultline --box URL [--token-file F] [--ca-file CA] apply|heal|stats|show|trace ...`: the client
// commands drive a box's HTTP API (control/http) instead of the local control socket, with the
// same requests, output and exit status. FAULTLINE_BOX, FAULTLINE_TOKEN_FILE and
// FAULTLINE_CA_FILE stand for the options.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

namespace faultline {

// Adds --box, --token-file and --ca-file to the main command.
void AddRemoteBoxOptions(CLI::App* app);

// Where a client command sends its requests: the box's URL (its transport installed) when --box
// or FAULTLINE_BOX names one, else `control` (the socket). nullopt, with the reason printed as
// `command`, when the box options are wrong (exit status 2).
std::optional<std::string> ControlTarget(const std::string& control, const char* command);

}  // namespace faultline
