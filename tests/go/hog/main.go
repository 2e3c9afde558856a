// Command hog uses up a resource, for supd's resource-control tests.
//
//	-alloc-mb N   allocate and touch N MiB in 1 MiB steps, keeping all of it, then sleep
//	-spin N       keep N goroutines busy forever
//	-fork N       start up to N children (/bin/sleep) one by one, then sleep; the first
//	              failure is printed ("fork failed after K children: ...")
//	-report FILE  write GOMAXPROCS and the Go memory limit the runtime uses, as
//	              "gomaxprocs N\nmemlimit N\n", before anything else
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"time"
)

var keep [][]byte

func main() {
	allocMB := flag.Int("alloc-mb", 0, "MiB to allocate and keep")
	spin := flag.Int("spin", 0, "goroutines to keep busy")
	forks := flag.Int("fork", 0, "children to start")
	report := flag.String("report", "", "file for GOMAXPROCS and the memory limit")
	flag.Parse()

	if *report != "" {
		limit := debug.SetMemoryLimit(-1) // -1: read without changing
		text := fmt.Sprintf("gomaxprocs %d\nmemlimit %d\n", runtime.GOMAXPROCS(0), limit)
		if limit == math.MaxInt64 {
			text = fmt.Sprintf("gomaxprocs %d\nmemlimit none\n", runtime.GOMAXPROCS(0))
		}
		tmp := *report + ".tmp"
		if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "hog:", err)
			os.Exit(1)
		}
		if err := os.Rename(tmp, *report); err != nil {
			fmt.Fprintln(os.Stderr, "hog:", err)
			os.Exit(1)
		}
	}
	for i := 0; i < *spin; i++ {
		go func() {
			x := 0
			for {
				x++
			}
		}()
	}
	for i := 1; i <= *allocMB; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1
		}
		keep = append(keep, b)
		if i%16 == 0 {
			fmt.Printf("allocated %d MiB\n", i)
		}
	}
	for i := 0; i < *forks; i++ {
		cmd := exec.Command("/bin/sleep", "300")
		if err := cmd.Start(); err != nil {
			fmt.Printf("fork failed after %d children: %v\n", i, err)
			break
		}
		if (i+1)%8 == 0 {
			fmt.Printf("started %d children\n", i+1)
		}
	}
	fmt.Println("hog done")
	for {
		time.Sleep(time.Hour)
	}
}
