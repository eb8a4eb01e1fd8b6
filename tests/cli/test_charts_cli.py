"""Charts and the report from the command line, after an import."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from heartkeep.cli import app

runner = CliRunner()
DAY = dt.date(2026, 6, 1)


@pytest.fixture
def imported(home: Path, tmp_path: Path) -> None:
    """A week of saved legacy Fitbit days (every 5 minutes), one of them with a lunch gap."""
    files = []
    for i in range(7):
        day = DAY + dt.timedelta(days=i)
        minutes = [m for m in range(0, 24 * 60, 5) if not (i == 0 and 12 * 60 <= m < 13 * 60)]
        data = {
            "activities-heart": [
                {"dateTime": day.isoformat(), "value": {"restingHeartRate": 58 + i % 3}}
            ],
            "activities-heart-intraday": {
                "dataset": [
                    {"time": f"{m // 60:02d}:{m % 60:02d}:00", "value": 60 + m % 90}
                    for m in minutes
                ],
                "datasetInterval": 5,
                "datasetType": "minute",
            },
        }
        path = tmp_path / f"heart-{day}.json"
        path.write_text(json.dumps(data))
        files.append(str(path))
    result = runner.invoke(app, ["import", "fitbit-json", *files, "--time-zone", "Europe/Berlin"])
    assert result.exit_code == 0, result.output


@pytest.mark.usefixtures("imported")
def test_plot_day_writes_an_svg_with_zones_and_a_broken_line(tmp_path: Path):
    out = tmp_path / "day.svg"
    result = runner.invoke(app, ["plot", "day", "2026-06-01", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    svg = out.read_text()
    assert 'id="zone-PEAK"' in svg
    # The lunch gap splits the curve: the path restarts (a second "M" move-to) mid-way.
    (path,) = [chunk for chunk in svg.split('<g id="heart-rate">')[1:2]]
    line = path.split("</g>")[0]
    assert len(re.findall(r'[\s"]M ', line)) == 2


@pytest.mark.usefixtures("imported")
@pytest.mark.parametrize(
    "args",
    [
        ["plot", "heatmap", "--metric", "coverage"],
        ["plot", "heatmap", "--metric", "resting", "--since", "2026-05-01"],
        ["plot", "trend"],
    ],
)
def test_other_plots_write_png_files(tmp_path: Path, args: list[str]):
    out = tmp_path / "chart.png"
    result = runner.invoke(app, [*args, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.usefixtures("imported")
def test_plot_rejects_unknown_formats_and_metrics(tmp_path: Path):
    """A value the command cannot take is a usage error (exit 2), and nothing is written."""
    result = runner.invoke(app, ["plot", "trend", "--output", str(tmp_path / "t.jpg")])
    assert result.exit_code == 2
    assert ".png or .svg" in result.output
    result = runner.invoke(
        app, ["plot", "heatmap", "--metric", "steps", "-o", str(tmp_path / "h.png")]
    )
    assert result.exit_code == 2
    assert "choose coverage or resting" in result.output
    assert not (tmp_path / "t.jpg").exists()
    assert not (tmp_path / "h.png").exists()


@pytest.mark.usefixtures("home")
@pytest.mark.parametrize(
    "args",
    [
        ["plot", "day", "2026-06-01", "-o", "day.gif"],
        ["plot", "heatmap", "-o", "calendar.jpeg"],
        ["plot", "heatmap", "--metric", "steps", "-o", "calendar.png"],
        ["plot", "trend", "-o", "trend.pdf"],
    ],
)
def test_a_wrong_plot_value_is_reported_before_the_store_is_looked_at(
    tmp_path: Path, args: list[str]
):
    """Without any data yet, the usage mistake is what the person hears about first (exit 2,
    not "no accounts yet"), so fixing it is not a second round trip."""
    result = runner.invoke(app, [*args[:-1], str(tmp_path / args[-1])])
    assert result.exit_code == 2, result.output
    assert "no accounts" not in result.output
    assert list(tmp_path.glob(args[-1])) == []


@pytest.mark.usefixtures("imported")
def test_report_covers_the_chosen_period(tmp_path: Path):
    out = tmp_path / "report.html"
    result = runner.invoke(
        app, ["report", "--output", str(out), "--since", "2026-06-02", "--until", "2026-06-04"]
    )
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert [
        day
        for day in ("2026-06-01", "2026-06-02", "2026-06-04", "2026-06-05")
        if f"<td>{day}</td>" in html
    ] == [
        "2026-06-02",
        "2026-06-04",
    ]
    assert html.count("<svg") == 3


def test_charts_without_data_say_how_to_get_some(home: Path, tmp_path: Path):
    result = runner.invoke(app, ["report", "--output", str(tmp_path / "r.html")])
    assert result.exit_code == 10
    assert "no accounts yet" in result.output
