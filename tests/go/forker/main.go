// Command forker leaves a grandchild behind, for supd's "nothing is left after a stop" tests.
//
// The parent starts a copy of itself with -child; the child ignores SIGTERM and
// sleeps forever. The parent writes its pid and the child's pid to -pidfile
// (one per line), then sleeps forever; with -ignore-term it ignores SIGTERM too.
// With -detach the child is started in its own session (setsid), as a daemon
// that double-forks would be.
//
// With -orphan-until PATH it double-forks for real: the parent starts a middle
// process, which starts the grandchild in its own session and exits at once, so
// the grandchild is orphaned (reparented to the nearest subreaper, or to the pid
// namespace's init). The grandchild exits 0 once PATH exists: a test decides
// when the orphan ends, then checks that whoever adopted it reaped it. The
// pidfile then holds three lines: the parent, the middle (gone), the orphan.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	child := flag.Bool("child", false, "run as the child: ignore SIGTERM, sleep forever")
	ignoreTerm := flag.Bool("ignore-term", false, "the parent ignores SIGTERM too")
	pidfile := flag.String("pidfile", "", "write the parent's and the child's pids here")
	detach := flag.Bool("detach", false, "start the child in a new session")
	orphanUntil := flag.String("orphan-until", "", "double-fork: leave an orphan that exits once this file exists")
	middle := flag.Bool("middle", false, "(internal) the middle of -orphan-until: start the orphan, print its pid, exit")
	orphan := flag.Bool("orphan", false, "(internal) the orphan of -orphan-until: exit once the file exists")
	flag.Parse()

	if *orphan {
		orphanMain(*orphanUntil)
		return
	}
	if *middle {
		middleMain(*orphanUntil)
		return
	}
	if *orphanUntil != "" {
		parentOfOrphan(*orphanUntil, *pidfile)
		return
	}

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

// orphanMain: wait for the file, then exit 0 (a zombie until whoever adopted us reaps it).
func orphanMain(path string) {
	fmt.Printf("forker orphan %d up (parent %d), exits once %s exists\n", os.Getpid(), os.Getppid(), path)
	for {
		if _, err := os.Stat(path); err == nil {
			fmt.Printf("forker orphan %d: %s is there, exiting\n", os.Getpid(), path)
			os.Exit(0)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// middleMain: start the orphan in its own session, tell the parent its pid on stdout, exit.
func middleMain(path string) {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "forker middle: %v\n", err)
		os.Exit(1)
	}
	cmd := exec.Command(self, "-orphan", "-orphan-until", path)
	// Not our stdout: that is the pipe the parent reads to its end.
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "forker middle: start orphan: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("%d\n", cmd.Process.Pid)
	os.Exit(0)
}

// parentOfOrphan: run the middle to its end (reaped here: only the orphan is left to adopt),
// write the pids, then sleep as the service's main process.
func parentOfOrphan(path, pidfile string) {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "forker: %v\n", err)
		os.Exit(1)
	}
	cmd := exec.Command(self, "-middle", "-orphan-until", path)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		fmt.Fprintf(os.Stderr, "forker: middle: %v\n", err)
		os.Exit(1)
	}
	orphanPid := strings.TrimSpace(string(out))
	if pidfile != "" {
		tmp := pidfile + ".tmp"
		content := fmt.Sprintf("%d\n%d\n%s\n", os.Getpid(), cmd.Process.Pid, orphanPid)
		if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "forker: %v\n", err)
			os.Exit(1)
		}
		if err := os.Rename(tmp, pidfile); err != nil {
			fmt.Fprintf(os.Stderr, "forker: %v\n", err)
			os.Exit(1)
		}
	}
	fmt.Printf("forker parent %d: middle %d exited, orphan %s left behind\n", os.Getpid(), cmd.Process.Pid, orphanPid)
	for {
		time.Sleep(time.Hour)
	}
}
