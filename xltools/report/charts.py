"""The 汇总报告's charts as PNG images, drawn by matplotlib with its Agg backend (no display,
no pyplot state): the grade distribution and the distribution of total scores.

Chinese labels need a CJK font: the first installed of WenQuanYi Zen Hei (Debian's
fonts-wqy-zenhei), Noto Sans CJK, Source Han Sans, SimHei and Microsoft YaHei is used, found by
matplotlib's font manager (the WenQuanYi file is added from its Debian path when the manager's
cache has not seen it). Without any, the charts are drawn all the same with matplotlib's own
font (the Chinese labels then show as boxes; the report's tables carry the same figures)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Final

CJK_FONTS: Final = (
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "SimHei",
    "Microsoft YaHei",
)
WQY_FILE: Final = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
BAR_COLOUR: Final = "#4472C4"


@cache
def cjk_font() -> str | None:
    """The family name of an installed CJK font, or None."""
    import logging

    from matplotlib import font_manager

    # "Failed to find font weight normal for WenQuanYi Zen Hei, now using 500": it does.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    names = {entry.name for entry in font_manager.fontManager.ttflist}
    if "WenQuanYi Zen Hei" not in names and WQY_FILE.is_file():
        with contextlib.suppress(OSError, RuntimeError, ValueError):
            font_manager.fontManager.addfont(str(WQY_FILE))
        names = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in names), None)


def _figure(width: float = 6.4, height: float = 3.4) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=150)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot(1, 1, 1)


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _style(axes: Any, title: str) -> None:
    font = cjk_font()
    properties = {"family": font} if font else {}
    axes.set_title(title, fontsize=12, **properties)
    for label in (*axes.get_xticklabels(), *axes.get_yticklabels()):
        if font:
            label.set_family(font)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#DDDDDD", linewidth=0.6)
    axes.set_axisbelow(True)


def bar_chart(
    labels: Sequence[str],
    counts: Sequence[int],
    *,
    title: str,
    xlabel: str = "",
    ylabel: str = "份数",
) -> bytes:
    """A column chart of counts, each column labelled with its count."""
    import warnings

    figure, axes = _figure()
    positions = list(range(len(labels)))
    with warnings.catch_warnings():  # a missing glyph is a warning, not a failure
        warnings.simplefilter("ignore")
        bars = axes.bar(positions, counts, color=BAR_COLOUR, width=0.6)
        axes.set_xticks(positions, list(labels))
        axes.bar_label(bars, labels=[str(c) for c in counts], fontsize=9)
        axes.set_ylim(0, max([*counts, 1]) * 1.18)
        axes.yaxis.get_major_locator().set_params(integer=True)
        font = cjk_font()
        properties = {"family": font} if font else {}
        if xlabel:
            axes.set_xlabel(xlabel, **properties)
        axes.set_ylabel(ylabel, **properties)
        _style(axes, title)
        return _png(figure)


def histogram_bins(totals: Sequence[float], bins: int = 10) -> list[int]:
    """Counts of totals in 0–10, 10–20 … 90–100 (100 in the last), as the 统计 sheet bins them."""
    counts = [0] * bins
    for total in totals:
        counts[min(bins - 1, max(0, int(total // 10)))] += 1
    return counts


def score_histogram(totals: Sequence[float]) -> bytes:
    counts = histogram_bins(totals)
    labels = [f"{n * 10}–{n * 10 + 10}" for n in range(len(counts))]
    return bar_chart(labels, counts, title="总分分布", xlabel="总分")
