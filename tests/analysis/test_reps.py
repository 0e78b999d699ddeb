"""Repetition segmentation on sine-like signals with pauses, partial reps and noise."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.reps import segment_repetitions, tempo


def _signal(peaks, *, period=2.0, pause=1.0, fs=30.0, noise=0.0, base=5.0):
    chunks = [np.full(int(pause * fs), base)]
    for p in peaks:
        ph = np.arange(int(period * fs)) / (period * fs)
        chunks.append(base + p * 0.5 * (1 - np.cos(2 * np.pi * ph)))
        chunks.append(np.full(int(pause * fs), base))
    x = np.concatenate(chunks)
    x = x + np.random.default_rng(0).normal(0, noise, x.size)
    return np.arange(x.size) / fs, x


def test_counts_reps_with_pauses_and_reads_rom():
    t, x = _signal([90, 92, 88, 91], noise=0.3)
    reps = segment_repetitions(t, x)
    assert len(reps) == 4 and not any(r.partial for r in reps)
    for r, peak in zip(reps, [90, 92, 88, 91], strict=True):
        assert r.rom_deg == pytest.approx(peak, abs=2.0)
        assert r.start_s < r.peak_s < r.end_s


def test_partial_rep_is_kept_but_not_counted():
    t, x = _signal([90, 30, 90])
    reps = segment_repetitions(t, x)
    assert [r.partial for r in reps] == [False, True, False]
    assert tempo(reps).mean_rep_s == pytest.approx(
        np.mean([r.end_s - r.start_s for r in reps if not r.partial])
    )


def test_pause_at_the_top_counts_once():
    fs = 30.0
    up = np.linspace(0, 80, 45)
    x = np.concatenate([np.zeros(30), up, np.full(90, 80.0), up[::-1], np.zeros(30)])
    x = x + np.random.default_rng(1).normal(0, 0.8, x.size)  # jitter during the 3 s hold
    reps = segment_repetitions(np.arange(x.size) / fs, x)
    # figures are read on the raw series here; production reads conditioned (low-passed) ones
    assert len(reps) == 1 and reps[0].rom_deg == pytest.approx(80, abs=5)


def test_no_movement_no_reps_and_valley_direction():
    t = np.arange(300) / 30.0
    assert (
        segment_repetitions(t, np.full(300, 20.0) + np.random.default_rng(0).normal(0, 0.5, 300))
        == []
    )
    t2, x = _signal([60, 60], base=90.0)
    sit_to_stand = 2 * 90.0 - x  # starts high, dips, returns
    reps = segment_repetitions(t2, sit_to_stand, direction="valley")
    assert len(reps) == 2 and reps[0].rom_deg == pytest.approx(60, abs=1)
    with pytest.raises(ValueError, match="direction"):
        segment_repetitions(t2, x, direction="up")


def test_nan_gaps_are_bridged_and_tempo_is_reported():
    t, x = _signal([70, 70, 70])
    x[50:55] = np.nan
    reps = segment_repetitions(t, x)
    assert len(reps) == 3
    tp = tempo(reps)
    assert tp.reps_per_min == pytest.approx(60 * 3 / (reps[-1].end_s - reps[0].start_s))
    # onset at 5 % of the excursion: a raised cosine gets there 0.14 s into its 1 s rise
    assert tp.mean_rise_s == pytest.approx(0.86, abs=0.05)
    assert tempo([]).reps_per_min is None
