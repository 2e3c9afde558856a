// The physical floor for the benchmark: runs a program again and again the least a supervisor
// can (fork, exec, wait; nothing else), so that supd's respawn and boot figures can be read
// against what the kernel and the program cost on the same machine in the same run.
//
//   bench_floor loop N PROGRAM ARGS...   run PROGRAM N times, one after the other
//   bench_floor session-loop N PROGRAM…  the same, each run in a session of its own (setsid(),
//                                        as supd and systemd start a service)
//   bench_floor spawn N PROGRAM ARGS...  start N copies at once, then wait until they are killed
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

namespace {

pid_t Start(char** argv, bool new_session) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (new_session) setsid();
    execv(argv[0], argv);
    _exit(127);
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  int n = 0;
  if (argc < 4 || std::from_chars(argv[2], argv[2] + std::strlen(argv[2]), n).ec != std::errc() ||
      n <= 0) {
    std::fprintf(stderr, "usage: bench_floor loop|session-loop|spawn N PROGRAM [ARGS...]\n");
    return 64;
  }
  const bool session = std::strcmp(argv[1], "session-loop") == 0;
  const bool loop = session || std::strcmp(argv[1], "loop") == 0;
  for (int i = 0; i < n; ++i) {
    const pid_t pid = Start(argv + 3, session);
    if (pid < 0) return 1;
    int status = 0;
    if (loop)
      while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return 1;
  }
  if (!loop)
    while (wait(nullptr) > 0 || errno == EINTR) {
    }
  return 0;
}
