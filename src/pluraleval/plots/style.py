"""Paper style shared by every figure: palette, group colours, sizes, rc settings and export.

Every plot function draws inside :func:`rc` on a free-standing
:class:`matplotlib.figure.Figure` (not registered with ``pyplot``), so plotting changes no
global state and needs no ``plt.close``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

__all__ = ["OKABE_ITO", "GROUP_ORDER", "SEQUENTIAL", "DIVERGING", "NEUTRAL", "FAILED_GID",
           "group_colors", "figure_size", "rc", "save", "new_figure", "mark_failed", "styled"]

#: The Okabe–Ito colour-blind-safe palette (Okabe & Ito 2008).
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
#: Order in which groups receive Okabe–Ito colours (yellow, faint on white, and black last).
GROUP_ORDER = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
               "#000000")
#: Colour maps (colour-blind safe): probabilities, and signed quantities centred on zero.
SEQUENTIAL = "Blues"
DIVERGING = "PuOr"
#: Neutral colour for marks that belong to no group.
NEUTRAL = "#404040"
#: ``gid`` of the marker a figure of an unconverged fit carries.
FAILED_GID = "failed-diagnostics"

_WIDTHS = {"one": 3.5, "two": 7.2}

_RC = {
    "font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "xtick.labelsize": 6,
    "ytick.labelsize": 6, "legend.fontsize": 6, "figure.titlesize": 8,
    "axes.spines.top": False, "axes.spines.right": False, "axes.linewidth": 0.6,
    "xtick.major.width": 0.6, "ytick.major.width": 0.6, "xtick.major.size": 2.5,
    "ytick.major.size": 2.5, "lines.linewidth": 1.0, "lines.markersize": 3.5,
    "legend.frameon": False, "axes.prop_cycle": mpl.cycler(color=list(GROUP_ORDER)),
    "image.cmap": SEQUENTIAL, "figure.dpi": 150, "savefig.dpi": 300,
    # embed TrueType in PDF (journals reject Type 3), keep SVG text editable, and make the
    # files reproducible byte for byte
    "pdf.fonttype": 42, "svg.fonttype": "none", "svg.hashsalt": "pluraleval",
}


def group_colors(levels: Sequence[Hashable]) -> dict:
    """One fixed colour per label, from its position in ``levels``.

    Pass the levels in the fit's order (``fit.judgments.coords[attribute]``) and every figure
    gives a group the same colour. Beyond eight levels the palette repeats.

    Parameters
    ----------
    levels : sequence
        Group labels (or any labels, e.g. systems), in their fixed order.

    Returns
    -------
    dict
        Label to hex colour.

    Examples
    --------
    >>> group_colors(["Africa", "Europe", "South Asia"])
    {'Africa': '#0072B2', 'Europe': '#E69F00', 'South Asia': '#009E73'}
    """
    return {level: GROUP_ORDER[i % len(GROUP_ORDER)] for i, level in enumerate(levels)}


def figure_size(width: str | float = "one", *, aspect: float = 0.75) -> tuple[float, float]:
    """Figure size in inches for a journal column.

    Parameters
    ----------
    width : {"one", "two"} or float
        One column (3.5 in), two columns (7.2 in), or a width in inches.
    aspect : float
        Height over width.

    Returns
    -------
    tuple of float
        ``(width, height)`` in inches.
    """
    if isinstance(width, str) and width not in _WIDTHS:
        raise ValueError(f"width={width!r}: use 'one', 'two' or a number of inches.")
    inches = _WIDTHS[width] if isinstance(width, str) else float(width)
    return inches, inches * aspect


def rc():
    """Context manager applying the paper style (small fonts, no top/right spines).

    Examples
    --------
    >>> with rc():
    ...     fig = new_figure(width="one")
    """
    return mpl.rc_context(_RC)


def styled(plot: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a plot function inside :func:`rc`."""
    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        with rc():
            return plot(*args, **kwargs)
    return wrapper


def new_figure(*, width: str | float = "one", aspect: float = 0.75) -> Figure:
    """A free-standing figure (no pyplot state) with constrained layout."""
    return Figure(figsize=figure_size(width, aspect=aspect), layout="constrained")


def mark_failed(fig: Figure, converged: bool) -> None:
    """Stamp a red "FAILED DIAGNOSTICS" banner on the figure of an unconverged fit."""
    if converged:
        return
    fig.suptitle("FAILED DIAGNOSTICS: provisional, do not report",
                 color=OKABE_ITO["vermillion"], fontweight="bold", gid=FAILED_GID)


def save(fig: Figure, path: str | Path, *, formats: Sequence[str] = ("pdf", "svg", "png"),
         dpi: int = 300) -> list[Path]:
    """Write a figure as vector (PDF, SVG) and raster (PNG) files.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        File stem (``figures/leaderboard``); a suffix naming one of ``formats`` is dropped.
        Missing directories are created.
    formats : sequence of str
        File formats, one file each.
    dpi : int
        Resolution of raster formats.

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.
    """
    path = Path(path)
    if path.suffix.lstrip(".") in formats:
        path = path.with_suffix("")
    path.parent.mkdir(parents=True, exist_ok=True)
    written = []
    with rc():
        for fmt in formats:
            target = path.with_name(f"{path.name}.{fmt}")
            metadata = {"pdf": {"CreationDate": None}, "svg": {"Date": None}}.get(fmt)
            fig.savefig(target, format=fmt, dpi=dpi, metadata=metadata)
            written.append(target)
    return written
