"""Peak memory counts the whole process tree: on Spark the JVM, a child, holds most of it."""

import os
import subprocess
import sys
import time

from pipelines.memory import RssSampler, tree_rss_bytes

MIB = 1 << 20
# a parent that holds little, whose child holds 300 MiB (touched, so resident)
HOLDER = "b = bytearray(300 << 20); b[::4096] = b'x' * len(b[::4096]); import time; time.sleep(60)"
PARENT = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {HOLDER!r}])"


def test_the_tree_of_a_process_counts_its_childrens_memory():
    parent = subprocess.Popen([sys.executable, "-c", PARENT])
    try:
        with RssSampler(interval=0.05, pid=parent.pid) as tree:
            deadline = time.time() + 30
            while tree_rss_bytes(parent.pid) < 300 * MIB and time.time() < deadline:
                time.sleep(0.1)
        with open(f"/proc/{parent.pid}/statm") as f:
            own = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        assert own < 100 * MIB  # the parent alone would say little
        end = time.time()
        assert tree.peak(0, end) >= 300 * MIB
        # ... and the sampler says so apart (phm bench's "of it phm": the driver on Spark)
        assert tree.peak(0, end, own=True) < 100 * MIB
    finally:
        subprocess.run(["pkill", "-P", str(parent.pid)], check=False)
        parent.kill()
        parent.wait()
