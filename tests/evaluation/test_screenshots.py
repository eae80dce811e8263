"""The report page in a real headless Chromium, at a phone's and a wide screen's width."""

from __future__ import annotations

import struct

import pytest

from imgclf.evaluation.screenshots import check_page, chromium
from tests.helpers import report_page

needs_chromium = pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (apt install chromium; CI installs it)")


@pytest.mark.required_in_ci
@needs_chromium
def test_page_fits_both_widths_loads_every_image_and_every_link_lands(tmp_path):
    page = report_page(tmp_path, n_models=4, n_classes=10, n_per_class=12)  # 10 classes: the widest tables
    assert check_page(page, tmp_path) == []
    for width in (390, 1440):
        png = (tmp_path / f"index_{width}px.png").read_bytes()
        shot_width, shot_height = struct.unpack(">II", png[16:24])
        assert shot_width == width and shot_height > 2000  # the full page, not the first screen


@pytest.mark.required_in_ci
@needs_chromium
def test_a_two_class_colour_page_like_cifar_deer_horse_passes_too(tmp_path):
    models = ["logreg", "mlp", "cifar_small", "cifar_small_augmented", "transfer"]
    page = report_page(tmp_path, n_models=5, n_classes=2, model_names=models, class_names=("deer", "horse"),
                       image_shape=(32, 32, 3))
    assert check_page(page, tmp_path) == []


@pytest.mark.required_in_ci
@needs_chromium
def test_the_checks_find_what_a_reader_would_see_wrong(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text(
        '<!doctype html><html><head><meta name="viewport" content="width=device-width"><style>'
        'nav{position:sticky;top:0;background:#fff;height:60px}section{height:2000px}</style></head><body>'
        '<nav><a href="#one">one</a> <a href="#missing">missing</a></nav>'
        '<section id="one"><div style="width:600px">a wide table</div>'
        '<img alt="broken" src="data:image/png;base64,AAAA"></section></body></html>')
    problems = check_page(page, tmp_path, widths=(390,))
    assert any("runs off the right edge" in p and "div" in p for p in problems), problems
    assert "at 390px, image not loaded: 'broken'" in problems
    assert "at 390px, navigation link #missing: no element with id missing" in problems
    assert any(p.startswith("at 390px, navigation link #one: its top") and "navigation bar" in p for p in problems), problems


def test_a_missing_page_is_named_in_one_line(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "imgclf.evaluation.screenshots", str(tmp_path / "none.html"),
                             str(tmp_path / "shots")], capture_output=True, text=True)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert f"no page {tmp_path / 'none.html'} (run dvc repro evaluate first)" in result.stderr
    assert not (tmp_path / "shots").exists()
