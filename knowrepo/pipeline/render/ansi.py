"""ANSI colours of outputs and tracebacks in the theme's own palette.

nbconvert's ansi2html gives the 16 basic colours classes (ansi-green-fg), which the theme
colours for light and dark with enough contrast. 256-colour and true-colour codes, which
IPython's tracebacks use (keywords in colour 28, names in 124), come out as inline
`style="color: rgb(0,135,0)"` instead: 4.1:1 on the light theme's background, 3.4:1 on the
dark one (axe: colour-contrast), and blind to the dark theme. Here each such colour becomes
the class of its nearest basic hue. Written by hand: no library maps colours onto a theme.
"""

from __future__ import annotations

import colorsys
import re

_SPAN = re.compile(r'<span(?: class="([^"]*)")? style="([^"]*)">')
_RGB = re.compile(r"(color|background-color): rgb\((\d+),\s*(\d+),\s*(\d+)\)")
_HUES = ("red", "yellow", "green", "cyan", "blue", "magenta")  # every 60 degrees from red
_BACKGROUNDS = {"red", "green", "yellow", "blue"}  # the ones the theme draws (style.css)


def nearest_basic(red: int, green: int, blue: int) -> str:
    """The basic ANSI colour nearest in hue to an rgb() colour (greys: black or white)."""
    hue, lightness, saturation = colorsys.rgb_to_hls(red / 255, green / 255, blue / 255)
    if saturation < 0.2 or lightness < 0.08 or lightness > 0.92:
        return "black" if lightness < 0.5 else "white"
    return _HUES[round(hue * 6) % 6]


def _themed_span(match: re.Match[str]) -> str:
    classes = (match.group(1) or "").split()
    for prop, *rgb in _RGB.findall(match.group(2)):
        name = nearest_basic(*(int(v) for v in rgb))
        if prop == "color":
            classes.append(f"ansi-{name}-fg")
        elif name in _BACKGROUNDS:
            classes.append(f"ansi-{name}-bg")
    return f'<span class="{" ".join(classes)}">' if classes else "<span>"


def themed_ansi2html(text: str) -> str:
    """nbconvert's ansi2html, with the theme's classes for every colour."""
    from nbconvert.filters.ansi import ansi2html  # (nbconvert: ~0.5 s, for render workers only)

    return _SPAN.sub(_themed_span, ansi2html(text))
