"""The tests' one poll helper (tests/integration and the lab's tests/lab/tests import it as `polling`, as they
import tests/auditlog.py: tests/ is on sys.path through tests/conftest.py's folder).

`wait_for(check, timeout, what)` calls check() until it returns something truthy and returns that; an error a
poll may meet while a cluster or process comes and goes (the lab's ApiError, OSError, a missing key or item,
a None where a dict was expected) is kept as the last value and polled again; at the timeout the test fails
with what it waited for and the last value or error. A poll, never a sleep used as an assertion."""

import time

try:  # the lab's REST client's error (tests/lab is on sys.path through tests/conftest.py)
    from kslabkit.rest import ApiError
except ImportError:  # a test that never talks to a lab
    ApiError = OSError

# errors one poll may meet while what it reads is not there yet (LookupError: KeyError and IndexError)
RETRIED = (ApiError, OSError, LookupError, TypeError, StopIteration)


def wait_for(check, timeout=120, what="condition", interval=1.0):
    """check()'s first truthy value within `timeout` seconds, polled every `interval` seconds."""
    deadline, last = time.time() + timeout, None
    while True:
        try:
            last = check()
            if last:
                return last
        except Exception as e:  # pylint: disable=broad-except
            # only the RETRIED ones are polled again
            if not isinstance(e, RETRIED):
                raise
            last = e
        if time.time() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s; last: %r" % (timeout, what, last))
        time.sleep(interval)


def until_admitted(write, timeout=30, what="a write the webhook no longer denies"):
    """write()'s result (True when it returns nothing), tried again while kube-apiserver answers 403 from an
    admission webhook: after the DELETE of a webhook configuration, its admission still calls the webhook until
    its informer has seen the deletion, a moment later. Any other error fails at once."""
    def attempt():
        try:
            return write() or True
        except ApiError as e:
            if getattr(e, "status", None) == 403 and "admission webhook" in str(e):
                return False
            raise
    return wait_for(attempt, timeout, what, interval=0.2)
