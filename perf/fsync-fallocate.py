#!/usr/bin/env python3
"""Cost of an fsync after a small append, with and without the file's space set aside first (fallocate with
FALLOC_FL_KEEP_SIZE, as Edge's queue log does for each segment). Usage: perf/fsync-fallocate.py [DIR] [N]"""
import ctypes
import os
import sys
import time

FALLOC_FL_KEEP_SIZE = 1
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]


def run(directory, reserved, count):
    path = os.path.join(directory, "fsync-fallocate.bin")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        if reserved and libc.fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 16 << 20) != 0:
            sys.exit(f"fallocate: {os.strerror(ctypes.get_errno())}")
        block = b"x" * 1024
        start = time.perf_counter()
        for i in range(count):
            os.pwrite(fd, block, i * len(block))
            os.fsync(fd)
        return (time.perf_counter() - start) / count * 1e6
    finally:
        os.close(fd)
        os.remove(path)


directory = sys.argv[1] if len(sys.argv) > 1 else "/tmp"
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1500
for _ in range(2):
    for reserved in (False, True):
        print(f"{'set aside' if reserved else 'appending'}: {run(directory, reserved, count):.0f} us per 1 KiB write and fsync")
