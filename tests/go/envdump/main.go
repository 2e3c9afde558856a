// Command envdump writes what its process was started with, as JSON, for supd's tests of
// Environment=, EnvironmentFile=, WorkingDirectory=, User= and argument expansion.
//
// Output: {"pid":…, "ppid":…, "args":[…], "env":{NAME:VALUE…}, "env_list":[…], "uid":…,
// "gid":…, "euid":…, "egid":…, "groups":[…], "cwd":"…", "umask":…}. It is written to a temp
// file and renamed to -out so a reader never sees half of it. Then it sleeps until
// signalled (-sleep) or exits with -exit-code.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

func main() {
	out := flag.String("out", os.Getenv("ENVDUMP_OUT"), "write the JSON here (default $ENVDUMP_OUT)")
	sleep := flag.Bool("sleep", false, "sleep until signalled after writing")
	exitCode := flag.Int("exit-code", 0, "exit status when not sleeping")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "envdump: -out or ENVDUMP_OUT is required")
		os.Exit(64)
	}

	envList := os.Environ()
	env := make(map[string]string, len(envList))
	for _, kv := range envList {
		if i := strings.IndexByte(kv, '='); i >= 0 {
			env[kv[:i]] = kv[i+1:]
		} else {
			env[kv] = ""
		}
	}
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "error: " + err.Error()
	}
	groups, _ := os.Getgroups()
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	dump := map[string]interface{}{
		"pid":      os.Getpid(),
		"ppid":     os.Getppid(),
		"args":     os.Args,
		"env":      env,
		"env_list": envList,
		"uid":      os.Getuid(),
		"gid":      os.Getgid(),
		"euid":     os.Geteuid(),
		"egid":     os.Getegid(),
		"groups":   groups,
		"cwd":      cwd,
		"umask":    umask,
	}
	data, err := json.MarshalIndent(dump, "", "  ")
	if err != nil {
		fmt.Fprintf(os.Stderr, "envdump: %v\n", err)
		os.Exit(1)
	}
	tmp := fmt.Sprintf("%s.tmp.%d", *out, os.Getpid())
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "envdump: %v\n", err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, *out); err != nil {
		fmt.Fprintf(os.Stderr, "envdump: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("envdump %d wrote %s\n", os.Getpid(), *out)
	if *sleep {
		for {
			time.Sleep(time.Hour)
		}
	}
	os.Exit(*exitCode)
}
