// Command forker leaves a grandchild behind, for supd's "nothing is left after a stop" tests.
//
// The parent starts a copy of itself with -child; the child ignores SIGTERM and
// sleeps forever. The parent writes its pid and the child's pid to -pidfile
// (one per line), then sleeps forever; with -ignore-term it ignores SIGTERM too.
// With -detach the child is started in its own session (setsid), as a daemon
// that double-forks would be.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	child := flag.Bool("child", false, "run as the child: ignore SIGTERM, sleep forever")
	ignoreTerm := flag.Bool("ignore-term", false, "the parent ignores SIGTERM too")
	pidfile := flag.String("pidfile", "", "write the parent's and the child's pids here")
	detach := flag.Bool("detach", false, "start the child in a new session")
	flag.Parse()

	if *child {
		signal.Ignore(syscall.SIGTERM)
		fmt.Printf("forker child %d up, ignoring SIGTERM\n", os.Getpid())
		for {
			time.Sleep(time.Hour)
		}
	}
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "forker: %v\n", err)
		os.Exit(1)
	}
	cmd := exec.Command(self, "-child")
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if *detach {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "forker: start child: %v\n", err)
		os.Exit(1)
	}
	if *pidfile != "" {
		tmp := *pidfile + ".tmp"
		content := fmt.Sprintf("%d\n%d\n", os.Getpid(), cmd.Process.Pid)
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "forker: %v\n", err)
			os.Exit(1)
		}
		// Rename, so a reader never sees half the file.
		if err := os.Rename(tmp, *pidfile); err != nil {
			fmt.Fprintf(os.Stderr, "forker: %v\n", err)
			os.Exit(1)
		}
	}
	fmt.Printf("forker parent %d started child %d\n", os.Getpid(), cmd.Process.Pid)
	if *ignoreTerm {
		fmt.Println("forker parent ignoring SIGTERM")
	}
	for {
		time.Sleep(time.Hour)
	}
}
