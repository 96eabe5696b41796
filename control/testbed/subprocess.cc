#include "control/testbed/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

namespace faultline {

namespace {
int DecodeStatus(int raw) {
  if (WIFEXITED(raw)) return WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) return 128 + WTERMSIG(raw);
  return -1;
}
}  // namespace

CommandResult RunShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    result.output = std::string("cannot run: ") + std::strerror(errno);
    return result;
  }
  char buffer[4096];
  size_t got;
  while ((got = fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, got);
  result.status = DecodeStatus(pclose(pipe));
  return result;
}

Subprocess::~Subprocess() {
  if (pid_ > 0 && status_ < 0) {
    kill(pid_, SIGKILL);
    Reap(true);
  }
}

bool Subprocess::Start(const std::vector<std::string>& argv, std::string* error, bool pipe_input) {
  int output[2] = {-1, -1}, input[2] = {-1, -1};
  const bool piped = pipe2(output, O_CLOEXEC) == 0 && (!pipe_input || pipe2(input, O_CLOEXEC) == 0);
  // Owned from here: every return closes the ends this process does not keep.
  UniqueFd output_read(output[0]), output_write(output[1]);
  UniqueFd input_read(input[0]), input_write(input[1]);
  if (!piped) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  std::vector<char*> args;
  std::vector<std::string> storage = argv;
  for (std::string& arg : storage) args.push_back(arg.data());
  args.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid_ == 0) {
    if (pipe_input) dup2(input_read.get(), STDIN_FILENO);
    dup2(output_write.get(), STDOUT_FILENO);
    dup2(output_write.get(), STDERR_FILENO);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot execute %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  output_fd_ = std::move(output_read);
  if (pipe_input) input_fd_ = std::move(input_write);
  return true;
}

bool Subprocess::WriteInput(const std::string& text) {
  for (size_t written = 0; written < text.size();) {
    const ssize_t n = write(input_fd_.get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<size_t>(n);
  }
  return true;
}

bool Subprocess::ReadSome(std::chrono::milliseconds wait) {
  if (!output_fd_.valid()) return false;
  pollfd descriptor{output_fd_.get(), POLLIN, 0};
  if (poll(&descriptor, 1, static_cast<int>(wait.count())) <= 0) return true;
  char buffer[4096];
  const ssize_t got = read(output_fd_.get(), buffer, sizeof(buffer));
  if (got <= 0) {
    output_fd_.reset();
    return false;
  }
  output_.append(buffer, static_cast<size_t>(got));
  return true;
}

bool Subprocess::Reap(bool block) {
  if (status_ >= 0) return true;
  int raw;
  const pid_t done = waitpid(pid_, &raw, block ? 0 : WNOHANG);
  if (done != pid_) return false;
  status_ = DecodeStatus(raw);
  return true;
}

bool Subprocess::WaitForOutput(const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (output_.find(text) == std::string::npos) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (!ReadSome(std::chrono::milliseconds(50))) return output_.find(text) != std::string::npos;
  }
  return true;
}

int Subprocess::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(pid_, SIGKILL);
      Reap(true);
      break;
    }
    if (!ReadSome(std::chrono::milliseconds(20))) usleep(10'000);  // output closed
  }
  while (ReadSome(std::chrono::milliseconds(0))) {
  }
  return status_;
}

int Subprocess::Stop(int signal, std::chrono::milliseconds timeout) {
  if (status_ < 0) kill(pid_, signal);
  return Wait(timeout);
}

std::string ShellWord(const std::string& word) {
  if (!word.empty() &&
      word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                             "_-./:=+,@%") == std::string::npos) {
    return word;
  }
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace faultline
