// benchcrash: for the benchmark. Appends "start <unix ns>" to -file as its first act, sleeps
// -after, appends "exit <unix ns>" and exits 1. The gap between one instance's "exit" and the
// next one's "start" is the crash-to-running time as the program itself sees it.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

func stamp(path, what string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0644)
	if err != nil {
		os.Exit(3)
	}
	fmt.Fprintf(f, "%s %d\n", what, time.Now().UnixNano())
	f.Close()
}

func main() {
	file := flag.String("file", "", "stamp file")
	after := flag.Duration("after", 20*time.Millisecond, "run this long, then crash")
	flag.Parse()
	stamp(*file, "start")
	time.Sleep(*after)
	stamp(*file, "exit")
	os.Exit(1)
}
