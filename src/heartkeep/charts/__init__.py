"""Charts: matplotlib figures built from samples and daily statistics; the caller saves them.

Each module returns a `matplotlib.figure.Figure` made without pyplot (no global state, no
display, safe in threads and under cron); `save()` writes PNG or SVG by the file's suffix.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from heartkeep.errors import ConfigError, HeartkeepError

FORMATS = {".png": "png", ".svg": "svg"}


def save(figure: Figure, path: Path) -> Path:
    """Write `figure` to `path` as PNG or SVG (by suffix).

    Raises `ConfigError` for another suffix and `HeartkeepError` when the file cannot be written.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ConfigError(f"cannot tell the image format of {path.name!r}: name it .png or .svg")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format=fmt, dpi=120)
    except OSError as error:
        raise HeartkeepError(f"cannot write {path}: {error.strerror or error}") from error
    return path


__all__ = ["FORMATS", "save"]
