// Command notifier speaks the sd_notify protocol by hand (raw datagrams to $NOTIFY_SOCKET), for
// supd's tests of Type=notify, STATUS=, the watchdog, reload, STOPPING=1 and MAINPID=.
//
// It uses only the standard library, like a Go service that does not want go-systemd. An
// abstract socket ("@name" in NOTIFY_SOCKET) needs nothing special: Go's net package turns a
// leading '@' into the abstract namespace's NUL byte, which is also all go-systemd relies on.
//
// Everything it sends is also logged to stderr as "notifier: sent ...".
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

func logf(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "notifier[%d]: "+format+"\n", append([]interface{}{os.Getpid()}, args...)...)
}

// notify sends the assignments as one datagram. Errors are logged, never fatal: a service
// under a manager without a notify socket keeps running.
func notify(lines ...string) {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		logf("NOTIFY_SOCKET not set; not sending %q", lines)
		return
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		logf("dial %s: %v", path, err)
		return
	}
	defer conn.Close()
	msg := strings.Join(lines, "\n")
	if _, err := conn.Write([]byte(msg)); err != nil {
		logf("send to %s: %v", path, err)
		return
	}
	logf("sent %s", strings.ReplaceAll(msg, "\n", " | "))
}

// monotonicUsec is CLOCK_MONOTONIC in µs, what MONOTONIC_USEC= is compared against.
func monotonicUsec() uint64 {
	var ts syscall.Timespec
	const clockMonotonic = 1
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic,
		uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		logf("clock_gettime: %v", errno)
		return 0
	}
	return uint64(ts.Sec)*1000000 + uint64(ts.Nsec)/1000
}

// watchdogInterval is what sd_watchdog_enabled(3) returns: $WATCHDOG_USEC, if $WATCHDOG_PID is
// unset or names this process.
func watchdogInterval() time.Duration {
	usec, err := strconv.ParseUint(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec == 0 {
		return 0
	}
	if p := os.Getenv("WATCHDOG_PID"); p != "" && p != strconv.Itoa(os.Getpid()) {
		return 0
	}
	return time.Duration(usec) * time.Microsecond
}

func writeEnv(path string) {
	content := fmt.Sprintf("NOTIFY_SOCKET=%s\nWATCHDOG_USEC=%s\nWATCHDOG_PID=%s\nPID=%d\n",
		os.Getenv("NOTIFY_SOCKET"), os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID"),
		os.Getpid())
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0644); err != nil {
		logf("write %s: %v", tmp, err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, path); err != nil {
		logf("rename %s: %v", tmp, err)
		os.Exit(1)
	}
}

func main() {
	readyAfter := flag.Duration("ready-after", 0, "send READY=1 and STATUS=ready after this long")
	readyWhen := flag.String("ready-when", "", "send READY=1 only once this file exists (after -ready-after)")
	neverReady := flag.Bool("never-ready", false, "never send READY=1")
	statusEvery := flag.Duration("status-every", 0, "send STATUS=tick N this often (0: never)")
	watchdog := flag.Bool("watchdog", false, "send WATCHDOG=1 every $WATCHDOG_USEC/2")
	hangAfter := flag.Duration("hang-after", 0, "stop the watchdog pings this long after start (0: never)")
	stoppingOnTerm := flag.Bool("stopping-on-term", false, "on SIGTERM send STOPPING=1, exit 0 200ms later")
	reloadOnHup := flag.Bool("reload-on-hup", false, "on SIGHUP send RELOADING=1 + MONOTONIC_USEC=, then READY=1")
	mainpidChild := flag.Bool("mainpid-child", false, "start a sleeping copy, send MAINPID=<its pid> (with READY=1), exit 0")
	writeEnvPath := flag.String("write-env", "", "write NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID to this file")
	sleepForever := flag.Bool("sleep-forever", false, "(internal) the child of -mainpid-child: sleep until SIGTERM")
	flag.Parse()
	start := time.Now()

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)

	if *sleepForever {
		for sig := range sigs {
			if sig != syscall.SIGHUP {
				logf("child got %v, exiting", sig)
				os.Exit(0)
			}
		}
	}

	if *writeEnvPath != "" {
		writeEnv(*writeEnvPath)
	}

	var readyTimer <-chan time.Time
	if !*neverReady {
		readyTimer = time.After(*readyAfter)
	}
	// -ready-when: a test holds the start open until it creates the file; the log line says
	// when this instance provably waits.
	var gatePoll <-chan time.Time
	gateLogged := false
	var statusTick <-chan time.Time
	if *statusEvery > 0 {
		statusTick = time.NewTicker(*statusEvery).C
	}
	var watchdogTick <-chan time.Time
	if *watchdog {
		if iv := watchdogInterval(); iv > 0 {
			watchdogTick = time.NewTicker(iv / 2).C
		} else {
			logf("-watchdog: WATCHDOG_USEC is not set for this process; not pinging")
		}
	}

	ticks, reloads := 0, 0
	var exitTimer <-chan time.Time
	for {
		select {
		case <-readyTimer:
			readyTimer = nil
			if *readyWhen != "" {
				if _, err := os.Stat(*readyWhen); err != nil {
					if !gateLogged {
						logf("waiting for %s before READY=1", *readyWhen)
						gateLogged = true
					}
					gatePoll = time.After(10 * time.Millisecond)
					continue
				}
			}
			if *mainpidChild {
				self, err := os.Executable()
				if err != nil {
					logf("executable: %v", err)
					os.Exit(1)
				}
				child := exec.Command(self, "-sleep-forever")
				child.Stdout, child.Stderr = os.Stdout, os.Stderr
				if err := child.Start(); err != nil {
					logf("start child: %v", err)
					os.Exit(1)
				}
				notify("READY=1", "STATUS=ready", "MAINPID="+strconv.Itoa(child.Process.Pid))
				logf("handed over to child %d, exiting", child.Process.Pid)
				os.Exit(0)
			}
			notify("READY=1", "STATUS=ready")
		case <-gatePoll:
			gatePoll = nil
			// Back through the ready case, which checks the file again.
			readyTimer = time.After(0)
		case <-statusTick:
			ticks++
			notify(fmt.Sprintf("STATUS=tick %d", ticks))
		case <-watchdogTick:
			if *hangAfter > 0 && time.Since(start) >= *hangAfter {
				logf("hanging: no more watchdog pings")
				watchdogTick = nil
				continue
			}
			notify("WATCHDOG=1")
		case sig := <-sigs:
			switch {
			case sig == syscall.SIGHUP && *reloadOnHup:
				reloads++
				notify("RELOADING=1", "MONOTONIC_USEC="+strconv.FormatUint(monotonicUsec(), 10))
				time.Sleep(50 * time.Millisecond) // "re-reading the configuration"
				notify("READY=1", fmt.Sprintf("STATUS=reloaded %d", reloads))
			case sig == syscall.SIGHUP:
				logf("SIGHUP ignored")
			case sig == syscall.SIGTERM && *stoppingOnTerm:
				if exitTimer == nil {
					notify("STOPPING=1", "STATUS=stopping")
					exitTimer = time.After(200 * time.Millisecond)
				}
			default:
				logf("got %v, exiting", sig)
				os.Exit(0)
			}
		case <-exitTimer:
			logf("stopped")
			os.Exit(0)
		}
	}
}
