#!/usr/bin/env python3
"""Where the server's CPU goes: groups the samples of `perf script` (a profile recorded with
`--call-graph dwarf`, as bench/profile.sh does) into a few buckets by the frames on their stack.

    perf script -i target/bench/profile-get_customer/perf.data | python3 bench/perf_buckets.py

The first matching rule wins (rules are ordered from specific to general); percentages are of
all samples of the server process.
"""

import collections
import sys

# (bucket, test on (stack text, leaf frame, leaf is kernel))
RULES = [
    ("request log line (tracing JSON → stderr)", lambda s, leaf, k: "tracing_subscriber" in s),
    ("DB socket send/recv (kernel, incl. loopback delivery)",
     lambda s, leaf, k: k and "drive_connection" in s),
    ("DB protocol (tokio-postgres connection task)", lambda s, leaf, k: "drive_connection" in s),
    ("cross-thread wake-ups (mio waker, futex)",
     lambda s, leaf, k: "Waker::wake" in s or "futex" in s or "wake_up" in leaf),
    ("pool checkout/recycle (deadpool)", lambda s, leaf, k: "deadpool" in s),
    ("statements: build, bind, decode (diesel, diesel-async)", lambda s, leaf, k: "diesel" in s),
    ("JWT verification (jsonwebtoken)", lambda s, leaf, k: "jsonwebtoken" in s),
    ("routing (actix-router, regex-lite)", lambda s, leaf, k: "regex_lite" in s or "actix_router" in s),
    ("response body: fields shaping + JSON (serde_json)",
     lambda s, leaf, k: "serde_json" in s or "SelectedFields" in s),
    ("HTTP socket send/recv (kernel)", lambda s, leaf, k: k and "actix_http" in s),
    ("HTTP parse/encode, middleware (actix-http, actix-web)", lambda s, leaf, k: "actix_http" in s or "actix_web" in s),
    ("event loop: epoll, scheduling, idle", lambda s, leaf, k: "epoll_wait" in s or "schedule" in s or "park" in s),
    ("other kernel", lambda s, leaf, k: k),
    ("other user space", lambda s, leaf, k: True),
]


def samples(stream):
    frames = []
    header = None
    for line in stream:
        if not line.strip():
            if header is not None:
                yield header, frames
            header, frames = None, []
            continue
        if not line.startswith((" ", "\t")):
            header, frames = line, []
        else:
            frames.append(line.strip())
    if header is not None:
        yield header, frames


def main() -> int:
    counts = collections.Counter()
    total = 0
    for header, frames in samples(sys.stdin):
        if not frames:
            continue
        total += 1
        leaf = frames[0]
        kernel = "[kernel.kallsyms]" in leaf
        stack = "\n".join(frames)
        for name, test in RULES:
            if test(stack, leaf, kernel):
                counts[name] += 1
                break
    if not total:
        print("no samples")
        return 1
    width = max(len(n) for n, _ in RULES)
    for name, _ in RULES:
        if counts[name]:
            print(f"{name:<{width}}  {100 * counts[name] / total:5.1f} %")
    print(f"{'samples':<{width}}  {total}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
