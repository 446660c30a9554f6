"""Free port blocks for private labs (tests/conftest.py's and the lab tests' conftest import it as `ports`, as
they import tests/auditlog.py)."""

import os
import random
import socket


def private_range(low, high):
    """The port range private labs take blocks from: KSLAB_PRIVATE_PORTS ("LOW-HIGH", set per stage by
    tests/run-all.sh so that stages running side by side never draw from the same ports), else [low, high)."""
    spec = os.environ.get("KSLAB_PRIVATE_PORTS", "")
    if spec:
        first, last = spec.split("-", 1)
        return int(first), int(last)
    return low, high


def free_block(span, low, high, step):
    """A base in [low, high - span) (a multiple of `step` from `low`) whose `span` ports on 127.0.0.1 are all
    free now, so that concurrent sessions do not collide. RuntimeError after 200 tries. KSLAB_PRIVATE_PORTS
    replaces [low, high)."""
    low, high = private_range(low, high)
    for _attempt in range(200):
        base = random.randrange(low, high - span, step)
        socks = []
        try:
            for port in range(base, base + span):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free block of %d ports on 127.0.0.1" % span)
