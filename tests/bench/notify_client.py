#!/usr/bin/env python3
"""A service for the benchmark, speaking the raw sd_notify protocol.

ready MARKFILE: writes CLOCK_MONOTONIC (µs) to MARKFILE, sends READY=1 at once, then sleeps.
flood N OUTFILE: sends READY=1, then N STATUS= datagrams as fast as the socket takes them
(blocking: when supd falls behind, the sender waits), writes "N seconds" to OUTFILE, sleeps.
"""
import os
import socket
import sys
import time


def main():
    addr = os.environ["NOTIFY_SOCKET"]
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect(addr)
    if sys.argv[1] == "ready":
        t = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        s.send(b"READY=1")
        with open(sys.argv[2], "w") as f:
            f.write(str(t))
    else:
        n = int(sys.argv[2])
        s.send(b"READY=1")
        t0 = time.monotonic()
        for i in range(n):
            s.send(b"STATUS=%d" % (i + 1))
        elapsed = time.monotonic() - t0
        with open(sys.argv[3], "w") as f:
            f.write(f"{n} {elapsed}")
    time.sleep(3600)


if __name__ == "__main__":
    main()
