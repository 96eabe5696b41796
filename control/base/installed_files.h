// Where an installed faultline finds the files it ships (profiles, traces, the example
// configuration): <prefix>/share/faultline, found from the executable's own path
// (/proc/self/exe: <prefix>/bin/faultline), so a package unpacked anywhere (dpkg-deb -x into a
// temporary root) works as well as /usr, with no repository and no environment variable.
#pragma once

#include <string>

namespace faultline {

// The path of the running executable (readlink /proc/self/exe); "faultline" if unreadable.
std::string SelfExecutable();

// <prefix>/share/faultline for the executable <prefix>/bin/faultline (not checked to exist).
std::string InstalledDataDirectory();

// A configuration file named on the command line: `path` itself when it names an existing file
// or is absolute; else the installed file of that relative name (<data>/PATH, then
// <data>/profiles/PATH, so `profiles/flaky-link.yaml` and `flaky-link.yaml` both work from any
// directory); else `path` unchanged, for the reader to report as missing under the name given.
std::string FindConfigurationFile(const std::string& path);

}  // namespace faultline
