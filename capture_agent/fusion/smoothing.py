"""One-Euro filtering of joint trajectories (Casiez, Roussel & Vogel, CHI 2012).

Why One-Euro and not a fixed low-pass: a patient holds a position (jitter
must go) and then moves quickly (lag must not appear on the therapist's
screen). The One-Euro filter raises its cut-off with speed, so it smooths
holds hard and follows movements closely. It is causal (no look-ahead), so
it adds no buffering latency to the live preview.

Defaults (min cut-off 0.5 Hz, β = 40 s/m) were *chosen on data*, by
``python bench/select_smoothing.py --pose2d blazepose --distances 2.5 3.5``:
a grid over (min cut-off, β) scored by the fused skeleton's angle error on
the prescribed measures of UI-PRMD subjects s04 and s05 only, so the accuracy
figures reported on s01–s03 never saw the choice. There the primary angle MAE
went from 7.27° (the earlier hand-set 1 Hz / 4 s/m) to 6.24° (6.66° unsmoothed):
the old filter's lag cost more than its smoothing gained. On 1 cm white noise
at 30 Hz (``tests/capture_agent/test_fusion.py``) the chosen filter cuts
jitter at rest to ~56 % and lags ~7 ms behind a 0.5 m/s movement, ~14 ms at
0.2 m/s (the old one: 36 %, 32 ms, 52 ms). The recorded skeleton is filtered
again, zero-phase, by ``analysis`` before any figure is computed.
"""

from __future__ import annotations

import numpy as np


def _alpha(cutoff_hz: np.ndarray | float, dt_s: float) -> np.ndarray:
    tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff_hz))
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """Vectorised over any array shape; NaN entries reset that element's state.

    ``min_cutoff_hz`` sets smoothing at rest; ``beta`` (s/m for positions in
    metres) how fast the cut-off rises with speed; ``d_cutoff_hz`` smooths the
    speed estimate itself.
    """

    def __init__(
        self, *, min_cutoff_hz: float = 0.5, beta: float = 40.0, d_cutoff_hz: float = 1.0
    ) -> None:
        self.min_cutoff_hz = min_cutoff_hz
        self.beta = beta
        self.d_cutoff_hz = d_cutoff_hz
        self.reset()

    def reset(self) -> None:
        self._x: np.ndarray | None = None
        self._dx: np.ndarray | None = None
        self._t: float | None = None

    def __call__(self, x: np.ndarray, t_s: float) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._t is None or t_s <= self._t:
            self._x = x.copy()
            self._dx = np.zeros_like(x)
            self._t = t_s
            return x.copy()
        dt = t_s - self._t
        self._t = t_s
        prev = np.where(np.isfinite(self._x), self._x, x)
        dx = (x - prev) / dt
        dx = np.where(np.isfinite(dx), dx, 0.0)
        a_d = _alpha(self.d_cutoff_hz, dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff_hz + self.beta * np.abs(self._dx)
        a = _alpha(cutoff, dt)
        out = a * x + (1 - a) * prev
        out = np.where(np.isfinite(x), out, np.nan)
        self._dx = np.where(np.isfinite(x), self._dx, 0.0)
        self._x = out
        return out.copy()
