// Command gosystemd is a Type=notify service written against Debian's go-systemd library
// (golang-github-coreos-go-systemd-dev, GOPATH mode: the package installs under
// /usr/share/gocode/src/github.com/coreos/go-systemd, so the import path has no /v22). It
// proves that supd's NOTIFY_SOCKET works with the client library real Go services use.
//
// It sends READY=1 (and a STATUS=), pings the watchdog if daemon.SdWatchdogEnabled says one
// is set, and sleeps until SIGTERM/SIGINT, then exits 0.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/daemon"
)

func main() {
	sent, err := daemon.SdNotify(false, daemon.SdNotifyReady)
	fmt.Fprintf(os.Stderr, "gosystemd: SdNotify(READY=1) sent=%v err=%v\n", sent, err)
	if err != nil {
		os.Exit(1)
	}
	if _, err := daemon.SdNotify(false, "STATUS=go-systemd ready"); err != nil {
		fmt.Fprintf(os.Stderr, "gosystemd: SdNotify(STATUS=): %v\n", err)
	}

	var ping <-chan time.Time
	if interval, err := daemon.SdWatchdogEnabled(false); err == nil && interval > 0 {
		ping = time.NewTicker(interval / 2).C
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	for {
		select {
		case <-ping:
			_, _ = daemon.SdNotify(false, daemon.SdNotifyWatchdog) // a lost ping shows as a watchdog timeout
		case sig := <-sigs:
			fmt.Fprintf(os.Stderr, "gosystemd: got %v, exiting\n", sig)
			os.Exit(0)
		}
	}
}
