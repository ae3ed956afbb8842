"""Server RSS per idle connection: open N connections that send nothing, read VmRSS before and after.

    /usr/bin/python3 bench/idle_rss.py PID HOST PORT N
"""
import resource
import socket
import sys
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def main():
    pid, host, port, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, n + 1024), hard))
    time.sleep(0.3)
    before = rss_kib(pid)
    socks = []
    for _ in range(n):
        s = socket.create_connection((host, port))
        socks.append(s)
    time.sleep(1.0)  # let the server accept and set every connection up
    after = rss_kib(pid)
    for s in socks:
        s.close()
    print(f'{{"connections": {n}, "rss_before_kib": {before}, "rss_after_kib": {after}, '
          f'"kib_per_connection": {(after - before) / n:.2f}}}')


if __name__ == "__main__":
    main()
