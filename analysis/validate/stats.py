"""Agreement statistics between a device and a reference (Bland & Altman 1986; McGraw & Wong 1996)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Agreement(NamedTuple):
    n: int
    bias_deg: float
    mae_deg: float
    loa_low_deg: float
    loa_high_deg: float
    icc: float


def icc_a1(device: np.ndarray, reference: np.ndarray) -> float:
    """ICC(A,1): two-way random effects, absolute agreement, single measurement.

    Absolute agreement (not consistency) because a constant offset between
    camera and markers is an error a clinician would read.
    """
    y = np.column_stack([device, reference]).astype(np.float64)
    n, k = y.shape
    if n < 2:
        return float("nan")
    grand = y.mean()
    ms_rows = k * np.sum((y.mean(axis=1) - grand) ** 2) / (n - 1)
    ms_cols = n * np.sum((y.mean(axis=0) - grand) ** 2) / (k - 1)
    resid = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + grand
    ms_err = np.sum(resid**2) / ((n - 1) * (k - 1))
    denom = ms_rows + (k - 1) * ms_err + k * (ms_cols - ms_err) / n
    return float((ms_rows - ms_err) / denom) if denom > 0 else float("nan")


def agreement(device: np.ndarray, reference: np.ndarray) -> Agreement:
    """Bias, MAE, 95 % limits of agreement and ICC(A,1) of paired figures."""
    d = np.asarray(device, dtype=np.float64) - np.asarray(reference, dtype=np.float64)
    n = int(d.size)
    if n == 0:
        nan = float("nan")
        return Agreement(0, nan, nan, nan, nan, nan)
    bias = float(d.mean())
    sd = float(d.std(ddof=1)) if n > 1 else 0.0
    return Agreement(
        n,
        bias,
        float(np.abs(d).mean()),
        bias - 1.96 * sd,
        bias + 1.96 * sd,
        icc_a1(device, reference),
    )
