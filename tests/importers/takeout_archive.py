"""Builds Takeout / Fitbit export archives at test time, in every documented layout.

Records are written the way the real archives write them (Jackson-style `"key" : value` JSON
with UTC `MM/DD/YY HH:MM:SS` stamps in files named by the *local* day; CSVs of UTC ISO stamps
in files named by the UTC day), so the importer is tested against the format, not against
itself.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from zoneinfo import ZoneInfo

LAYOUTS = (
    "user-site-export",
    "myfitbitdata",
    "takeout-fitbit",
    "takeout-google-health",
    "takeout-google-health-2026-10",
)


def utc_stamp(instant_s: int) -> str:
    return dt.datetime.fromtimestamp(instant_s, dt.UTC).strftime("%m/%d/%y %H:%M:%S")


def heart_rate_json(samples: Iterable[tuple[int, int]]) -> str:
    records = [
        f'{{\n  "dateTime" : "{utc_stamp(instant)}",\n  "value" : {{\n    "bpm" : {bpm},\n'
        f'    "confidence" : 2\n  }}\n}}'
        for instant, bpm in samples
    ]
    return "[" + ",".join(records) + "]"


def heart_rate_csv(samples: Iterable[tuple[int, int]], *, with_source: bool) -> str:
    header = "timestamp,beats per minute" + (",data source" if with_source else "")
    rows = [header]
    for instant, bpm in samples:
        stamp = dt.datetime.fromtimestamp(instant, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f"{stamp},{float(bpm)}" + (",Pixel Watch" if with_source else ""))
    return "\n".join(rows) + "\n"


def by_local_day(samples: Iterable[tuple[int, int]], zone: str) -> dict[dt.date, list]:
    days: dict[dt.date, list] = defaultdict(list)
    tz = ZoneInfo(zone)
    for instant, bpm in samples:
        days[dt.datetime.fromtimestamp(instant, tz).date()].append((instant, bpm))
    return days


def by_utc_day(samples: Iterable[tuple[int, int]]) -> dict[dt.date, list]:
    days: dict[dt.date, list] = defaultdict(list)
    for instant, bpm in samples:
        days[dt.datetime.fromtimestamp(instant, dt.UTC).date()].append((instant, bpm))
    return days


def archive_files(
    layout: str, samples: list[tuple[int, int]], zone: str, *, owner: str = "Jo Doe"
) -> dict[str, str]:
    """{path inside the archive: text} for the heart-rate files of one layout."""
    files: dict[str, str] = {}
    local = by_local_day(samples, zone)
    utc = by_utc_day(samples)
    json_dir = {
        "user-site-export": f"{owner}/user-site-export",
        "myfitbitdata": f"MyFitbitData/{owner.replace(' ', '')}/Physical Activity",
        "takeout-fitbit": "Takeout/Fitbit/Global Export Data",
        "takeout-google-health": "Takeout/Google Health/Global Export Data",
    }.get(layout)
    if json_dir is not None:
        for day, rows in local.items():
            files[f"{json_dir}/heart_rate-{day}.json"] = heart_rate_json(rows)
    csv_dir = {
        "takeout-fitbit": "Takeout/Fitbit/Physical Activity_GoogleData",
        "takeout-google-health": "Takeout/Google Health/Physical Activity_GoogleData",
        "takeout-google-health-2026-10": (
            "Takeout/Google Health/Physical Activity_GoogleData/Heart Rate"
        ),
    }.get(layout)
    if csv_dir is not None:
        for day, rows in utc.items():
            files[f"{csv_dir}/heart_rate_{day}.csv"] = heart_rate_csv(
                rows, with_source=layout != "takeout-fitbit"
            )
    # Other streams every archive carries, which the importer must skip.
    files["Takeout/Fitbit/Global Export Data/calories-2026-01-01.json"] = "[]"
    files["Biometrics/Glucose 2601.csv"] = "no data"
    return files


def write(files: dict[str, str], dest: Path, *, as_zip: bool) -> Path:
    """Write the files into a zip at `dest` (.zip) or a folder `dest`."""
    if as_zip:
        with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, text in files.items():
                archive.writestr(name, text)
        return dest
    for name, text in files.items():
        path = dest / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return dest


def minute_samples(
    zone: str, days: Iterable[dt.date], *, step_s: int = 60
) -> list[tuple[int, int]]:
    """A sample every `step_s` seconds across the given local days, bpm varying with time."""
    tz = ZoneInfo(zone)
    out = []
    for day in days:
        start = int(dt.datetime.combine(day, dt.time(), tz).timestamp())
        end = int(dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tz).timestamp())
        out.extend(
            (instant, 50 + (instant // step_s) % 90) for instant in range(start, end, step_s)
        )
    return out
