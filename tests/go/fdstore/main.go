// fdstore: parks an fd in the service manager's store (FDSTORE=1) and gets it back in its next
// instance, as systemd's file-descriptor store works.
//
// Without a stored "state" fd: it makes a pipe, writes "generation-1" into it, closes the write
// end, stores the read end as FDNAME=state and appends "stored" to -out. With one (named in
// LISTEN_FDNAMES): it reads the pipe and appends "got: <content>" to -out. Then READY=1, and it
// runs until SIGTERM.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func appendLine(path, line string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0644)
	if err != nil {
		os.Exit(3)
	}
	fmt.Fprintln(f, line)
	f.Close()
}

func notify(conn *net.UnixConn, addr *net.UnixAddr, msg string, fds ...int) {
	var oob []byte
	if len(fds) > 0 {
		oob = syscall.UnixRights(fds...)
	}
	if _, _, err := conn.WriteMsgUnix([]byte(msg), oob, addr); err != nil {
		fmt.Fprintf(os.Stderr, "notify %q: %v\n", msg, err)
		os.Exit(4)
	}
}

func main() {
	out := flag.String("out", "", "file to append what happened to")
	flag.Parse()

	addr := &net.UnixAddr{Name: os.Getenv("NOTIFY_SOCKET"), Net: "unixgram"}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Net: "unixgram"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}

	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	found := -1
	for i, n := range names {
		if n == "state" {
			found = 3 + i
		}
	}
	if found >= 0 {
		data, _ := io.ReadAll(os.NewFile(uintptr(found), "state"))
		appendLine(*out, "got: "+string(data))
	} else {
		r, w, err := os.Pipe()
		if err != nil {
			os.Exit(5)
		}
		w.WriteString("generation-1")
		w.Close()
		notify(conn, addr, "FDSTORE=1\nFDNAME=state", int(r.Fd()))
		r.Close()
		appendLine(*out, "stored")
	}
	notify(conn, addr, "READY=1")

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM)
	<-stop
}
