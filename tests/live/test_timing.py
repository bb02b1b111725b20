"""Tests of fer_lib.live._drawing.FpsMeter: the frame rate of the CLI's window and the LiveView."""

from __future__ import annotations

import pytest

from fer_lib.live._drawing import FpsMeter


def _meter(times, **options) -> FpsMeter:
    clock = iter(times)
    return FpsMeter(clock=lambda: next(clock), **options)


def test_steady_rate():
    meter = _meter([i / 20 for i in range(11)])
    rates = [meter.tick() for _ in range(11)]
    assert rates[0] == 0.0
    assert rates[1:] == pytest.approx([20.0] * 10)
    assert meter.mean == pytest.approx(20.0) and meter.count == 11


def test_smoothing_weighs_the_previous_rate():
    meter = _meter([0.0, 0.1, 0.6], smoothing=0.9)
    meter.tick()
    assert meter.tick() == pytest.approx(10.0)  # the first interval sets the rate
    assert meter.tick() == pytest.approx(0.9 * 10 + 0.1 * 2)
    assert meter.mean == pytest.approx(2 / 0.6)


def test_no_rate_before_two_frames_or_without_time_passing():
    meter = _meter([1.0, 1.0])
    assert meter.mean == 0.0
    meter.tick()
    assert meter.tick() == 0.0 and meter.mean == 0.0


@pytest.mark.parametrize("smoothing", [-0.1, 1.0])
def test_smoothing_must_be_a_fraction(smoothing):
    with pytest.raises(ValueError, match="smoothing must be in"):
        FpsMeter(smoothing)
