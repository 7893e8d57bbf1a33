"""Sparklines as static inline SVG: a metric's trend across runs, with no JavaScript.

Hand-written because it is twenty lines: a charting library would add a dependency and
script to every history page for one polyline.
"""

from __future__ import annotations


def sparkline(values: list[float], width: int = 120, height: int = 28, pad: int = 3) -> str:
    """An SVG polyline of `values` (oldest first) with a dot on the latest value. Of many runs
    it draws one point per pixel (3,000 runs would be 30 kB of points in 114 pixels)."""
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    drawn = sampled(values, width - 2 * pad)
    step = (width - 2 * pad) / max(len(drawn) - 1, 1)
    points = [
        (pad + i * step, height - pad - (v - low) / span * (height - 2 * pad)) for i, v in enumerate(drawn)
    ]
    if len(points) == 1:
        points = [(pad, points[0][1]), (width - pad, points[0][1])]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    last_x, last_y = points[-1]
    return (
        f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="trend of {len(values)} runs, from {values[0]:g} to {values[-1]:g}">'
        f'<polyline points="{path}" fill="none" stroke="currentColor" stroke-width="1.6"/>'
        f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.4" fill="currentColor"/></svg>'
    )


def sampled(values: list[float], most: int) -> list[float]:
    """At most `most` of `values`, evenly spread, the first and the latest among them."""
    if len(values) <= most:
        return values
    last = len(values) - 1
    return [values[round(i * last / (most - 1))] for i in range(most)]
