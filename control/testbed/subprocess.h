// Child processes for the demo and the end-to-end tests: start, watch output, stop by PID.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "control/base/installed_files.h"  // SelfExecutable, for the demo
#include "control/base/unique_fd.h"

namespace faultline {

struct CommandResult {
  int status = -1;     // exit status, or 128 + signal
  std::string output;  // stdout and stderr together
};

// Runs `command` with /bin/sh -c and waits for it.
CommandResult RunShell(const std::string& command);

// A word as a shell reads it: as it is when it is plain, else in single quotes.
std::string ShellWord(const std::string& word);

class Subprocess {
 public:
  Subprocess() = default;
  ~Subprocess();  // kills (SIGKILL) and reaps a child that is still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // Starts argv[0] (searched in PATH) with stdout and stderr captured; with `pipe_input`, its
  // stdin is a pipe fed by WriteInput (else it inherits ours).
  bool Start(const std::vector<std::string>& argv, std::string* error, bool pipe_input = false);

  // Writes to the child's stdin (Start with pipe_input). False if the child closed it (ignore
  // SIGPIPE in the caller, or that kills it).
  bool WriteInput(const std::string& text);

  // Reads output until `text` appears, the child exits or `timeout` passes.
  bool WaitForOutput(const std::string& text, std::chrono::milliseconds timeout);

  // Sends `signal`, waits up to `timeout` for the exit, then SIGKILL. Returns the status.
  int Stop(int signal, std::chrono::milliseconds timeout);

  // Waits for the child to exit by itself, up to `timeout` (then SIGKILL). Returns the status.
  int Wait(std::chrono::milliseconds timeout);

  pid_t pid() const { return pid_; }
  const std::string& output() const { return output_; }

 private:
  // Reads what is available within `wait`; returns false once the pipe is closed.
  bool ReadSome(std::chrono::milliseconds wait);
  bool Reap(bool block);

  pid_t pid_ = -1;
  UniqueFd output_fd_;
  UniqueFd input_fd_;
  int status_ = -1;
  std::string output_;
};

}  // namespace faultline
