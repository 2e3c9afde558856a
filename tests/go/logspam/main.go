// logspam: writes output for the log tests and the log benchmark.
//
//	logspam burst N   N numbered lines on stdout and on stderr, one 1 MiB line on stdout,
//	                  a last stdout line without newline, then a panic (goroutine trace on
//	                  stderr, exit status 2).
//	logspam lines N   N numbered lines on stdout, then exits 0.
//	logspam tick      "tick <n> pid <pid>" on stdout every 20 ms, for ever.
//	logspam numbered  "line <n> of chatty" on stdout every 20 ms, each line in two writes 5 ms
//	                  apart (so that a reader often holds half a line); on SIGTERM, once the
//	                  line in progress is whole, "done after <n> lines" and exit 0: a test can
//	                  check that every line is in the log exactly once, in order, to the last.
//	logspam rate SECS [FILE]
//	                  200-byte lines on stdout (or appended to FILE) as fast as it can for SECS
//	                  seconds, then prints "wrote <lines> <bytes>" on stderr and exits 0.
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func burst(n int) {
	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	errw := bufio.NewWriterSize(os.Stderr, 1<<16)
	for i := 0; i < n; i++ {
		fmt.Fprintf(out, "out line %d\n", i)
		fmt.Fprintf(errw, "err line %d\n", i)
	}
	// One line of 1 MiB: "BIG" then digits that say their own offset, so a test can check
	// that every piece is there, in order.
	var b strings.Builder
	b.WriteString("BIG:")
	for b.Len() < 1<<20 {
		b.WriteString(fmt.Sprintf("%08d", b.Len()))
	}
	out.WriteString(b.String())
	out.WriteString("\n")
	out.WriteString("no newline at the end")
	out.Flush()
	errw.Flush()
	helper()
}

func helper() {
	panic("logspam: deliberate panic after the burst")
}

func rate(secs int, file string) {
	var w *bufio.Writer
	if file != "" {
		f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0644)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		w = bufio.NewWriterSize(f, 1<<16)
	} else {
		w = bufio.NewWriterSize(os.Stdout, 1<<16)
	}
	line := []byte(strings.Repeat("x", 199) + "\n")
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	lines, bytes := 0, 0
	for time.Now().Before(deadline) {
		for i := 0; i < 1000; i++ {
			w.Write(line)
		}
		lines += 1000
		bytes += 1000 * len(line)
	}
	w.Flush()
	fmt.Fprintf(os.Stderr, "wrote %d %d\n", lines, bytes)
}

func numbered() {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	tick := time.NewTicker(20 * time.Millisecond)
	for n := 0; ; n++ {
		select {
		case <-term:
			fmt.Printf("done after %d lines\n", n)
			os.Exit(0)
		case <-tick.C:
		}
		fmt.Printf("line %d ", n)
		time.Sleep(5 * time.Millisecond)
		fmt.Printf("of chatty\n")
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: logspam burst N | lines N | tick | numbered | rate SECS [FILE]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "burst":
		n, _ := strconv.Atoi(os.Args[2])
		burst(n)
	case "lines":
		n, _ := strconv.Atoi(os.Args[2])
		out := bufio.NewWriterSize(os.Stdout, 1<<16)
		for i := 0; i < n; i++ {
			fmt.Fprintf(out, "line %d of the rotation test, padded to make it longer\n", i)
		}
		out.Flush()
	case "tick":
		for i := 0; ; i++ {
			fmt.Printf("tick %d pid %d\n", i, os.Getpid())
			time.Sleep(20 * time.Millisecond)
		}
	case "numbered":
		numbered()
	case "rate":
		secs, _ := strconv.Atoi(os.Args[2])
		file := ""
		if len(os.Args) > 3 {
			file = os.Args[3]
		}
		rate(secs, file)
	}
}
