// Command crasher ends in the way it is told to, for supd's restart tests.
//
// It prints one line to stdout and one to stderr, optionally appends its pid to
// -write-file (so a test can count starts), waits -after, then exits with
// -exit-code, kills itself with -signal, panics (-panic), or sleeps until
// signalled (-sleep).
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

var signals = map[string]syscall.Signal{
	"SIGABRT": syscall.SIGABRT, "SIGBUS": syscall.SIGBUS, "SIGFPE": syscall.SIGFPE,
	"SIGHUP": syscall.SIGHUP, "SIGILL": syscall.SIGILL, "SIGINT": syscall.SIGINT,
	"SIGKILL": syscall.SIGKILL, "SIGQUIT": syscall.SIGQUIT, "SIGSEGV": syscall.SIGSEGV,
	"SIGSYS": syscall.SIGSYS, "SIGTERM": syscall.SIGTERM, "SIGTRAP": syscall.SIGTRAP,
	"SIGUSR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2, "SIGPIPE": syscall.SIGPIPE,
}

func main() {
	exitCode := flag.Int("exit-code", 0, "exit with this status")
	after := flag.Duration("after", 0, "wait this long before ending")
	sigName := flag.String("signal", "", "kill self with this signal (e.g. SIGSEGV, SIGKILL, SIGABRT)")
	doPanic := flag.Bool("panic", false, "end with a Go panic (exit status 2, stack on stderr)")
	writeFile := flag.String("write-file", "", "append a line with our pid to this file at start")
	sleep := flag.Bool("sleep", false, "run until signalled")
	flag.Parse()

	pid := os.Getpid()
	fmt.Printf("crasher %d starting (stdout)\n", pid)
	fmt.Fprintf(os.Stderr, "crasher %d starting (stderr)\n", pid)

	if *writeFile != "" {
		f, err := os.OpenFile(*writeFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
		if err != nil {
			fmt.Fprintf(os.Stderr, "crasher: %v\n", err)
			os.Exit(70)
		}
		fmt.Fprintf(f, "%d\n", pid)
		f.Close()
	}

	if *sleep {
		// Default dispositions stay: SIGTERM ends us with that signal.
		for {
			time.Sleep(time.Hour)
		}
	}
	if *after > 0 {
		time.Sleep(*after)
	}
	if *doPanic {
		panic(fmt.Sprintf("crasher %d panicking as asked", pid))
	}
	if *sigName != "" {
		name := strings.ToUpper(*sigName)
		if !strings.HasPrefix(name, "SIG") {
			name = "SIG" + name
		}
		sig, ok := signals[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "crasher: unknown signal %q\n", *sigName)
			os.Exit(64)
		}
		fmt.Printf("crasher %d killing itself with %s\n", pid, name)
		dieBy(sig)
		time.Sleep(10 * time.Second)
		fmt.Fprintf(os.Stderr, "crasher: still alive after %s\n", name)
		os.Exit(71)
	}
	fmt.Printf("crasher %d exiting with status %d\n", pid, *exitCode)
	os.Exit(*exitCode)
}

// dieBy ends the process with sig as the kernel's default action would.
//
// The Go runtime keeps its own handlers for SIGSEGV, SIGBUS, SIGABRT... and
// ignores a user-sent SIGSEGV; signal.Reset does not give those back. So the
// disposition is set to SIG_DFL with a raw rt_sigaction, and core dumps are
// disabled first so that a dumping signal does not write a core file or run a
// slow core_pattern helper.
func dieBy(sig syscall.Signal) {
	syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: 0, Max: 0})
	if sig != syscall.SIGKILL && sig != syscall.SIGSTOP {
		// struct kernel_sigaction: handler, flags, restorer, mask.
		var act struct {
			handler  uintptr
			flags    uint64
			restorer uintptr
			mask     uint64
		}
		syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	}
	syscall.Kill(os.Getpid(), sig)
}
