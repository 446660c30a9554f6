"""Clock offsets from Date headers: the 1 s resolution and the request latency bound the offset honestly."""

import email.utils

import pytest

from ansible_collections.kubesphere.multicluster.plugins.module_utils.read import clock

T = 1764031573.0  # a whole second: Wed, 25 Nov 2026 00:46:13 GMT


def date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def test_parse_date():
    assert clock.parse_date(date(T)) == T
    assert clock.parse_date("not a date") is None
    assert clock.parse_date(None) is None


def test_one_sample_is_an_interval_of_at_least_one_second():
    # server stamped T (its clock in [T, T+1)); controller sent at T+0.2, got the answer at T+0.3
    s = clock.sample_offset(date(T), T + 0.2, T + 0.3)
    assert (s["low"], s["high"]) == (-0.3, 0.8)
    assert s["offset"] == 0.25 and s["uncertainty"] == 0.55


@pytest.mark.parametrize("true_offset", [-42.7, -3.2, 0.0, 0.4, 11.9])
@pytest.mark.parametrize("phase", [0.0, 0.31, 0.99])
def test_the_true_offset_is_always_inside_the_interval(true_offset, phase):
    sent = T + phase
    stamped_at = sent + 0.05          # controller time when the server wrote Date
    received = stamped_at + 0.08
    server_now = stamped_at + true_offset
    header = date(int(server_now))    # truncated to the second, as HTTP does
    s = clock.sample_offset(header, sent, received)
    assert s["low"] - 1e-3 <= true_offset <= s["high"] + 1e-3
    assert abs(s["offset"] - true_offset) <= s["uncertainty"] + 1e-3


def test_latency_widens_the_interval():
    fast = clock.sample_offset(date(T), T, T + 0.01)
    slow = clock.sample_offset(date(T), T, T + 2.0)
    assert slow["uncertainty"] - fast["uncertainty"] == pytest.approx(0.995, abs=1e-3)


def test_no_or_bad_date_gives_none():
    assert clock.sample_offset(None, T, T + 0.1) is None
    assert clock.sample_offset(date(T), T + 1, T) is None


def test_combine_intersects_samples():
    a = clock.interval(-0.3, 0.7)
    b = clock.interval(0.1, 1.1)
    assert clock.combine([a, None, b]) == clock.interval(0.1, 0.7)
    assert clock.combine([None]) is None


def test_combine_falls_back_to_the_union_when_samples_disagree():
    assert clock.combine([clock.interval(0, 1), clock.interval(5, 6)]) == clock.interval(0, 6)


@pytest.mark.parametrize("value,seconds", [("10s", 10.0), ("1m30s", 90.0), ("500ms", 0.5), ("2h", 7200.0),
                                           (15, 15.0), (None, 10.0), ("", 10.0), ("ten", 10.0), ("10", 10.0)])
def test_parse_duration(value, seconds):
    assert clock.parse_duration(value) == seconds
