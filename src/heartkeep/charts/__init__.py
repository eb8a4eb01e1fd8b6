"""Charts: matplotlib figures built from samples and daily statistics; the caller saves them.

Each module returns a `matplotlib.figure.Figure` made without pyplot (no global state, no
display, safe in threads and under cron); `save()` writes PNG or SVG by the file's suffix.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from heartkeep.errors import UsageError
from heartkeep.output_target import OutputTarget, is_stdout

if TYPE_CHECKING:  # matplotlib loads where a figure is made; the report's charts need none
    from matplotlib.figure import Figure

FORMATS = {".png": "png", ".svg": "svg"}


def image_format(path: Path) -> str:
    """ "png" or "svg" for `path` (standard output gets PNG); `UsageError` (exit 2) for any other
    name, so a command can refuse a wrong `--output` before it reads or draws anything."""
    fmt = "png" if is_stdout(path) else FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UsageError(
            f"cannot tell the image format of {path.name!r}: name it .png or .svg "
            "(or - for PNG on standard output)"
        )
    return fmt


def save(figure: Figure, path: Path) -> Path:
    """Write `figure` to `path` as PNG or SVG (by suffix; `-`, standard output, gets PNG).

    Written as `heartkeep.output_target` says (a symlink or FIFO is written through, a regular
    file replaced atomically).  Raises `UsageError` for another suffix and `StoreError` (exit
    9) when the file cannot be written.
    """
    fmt = image_format(path)
    image = io.BytesIO()  # matplotlib wants a seekable file; an image is small
    figure.savefig(image, format=fmt, dpi=120)
    with OutputTarget(path) as sink:
        sink.write(image.getvalue())
    return path


__all__ = ["FORMATS", "image_format", "save"]
