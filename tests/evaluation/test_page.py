import base64
import re

import numpy as np

from imgclf.evaluation.overlays import quantised
from imgclf.evaluation.page import per_class_table, section_id
from imgclf.pages import image_tag
from tests.helpers import report_page


def test_page_links_every_model_to_its_section_and_ranks_them(shared_page):
    page = shared_page().read_text()
    nav = re.search(r"<nav.*?</nav>", page, re.S).group(0)
    targets = re.findall(r'href="#([^"]+)"', nav)
    assert targets[0] == "overview" and len(targets) == 4
    for target in targets:
        assert page.count(f'id="{target}"') == 1
    ranked = re.findall(r'<td data-label="model"><a href="#model-(model_\d)">', page)
    assert ranked == ["model_2", "model_1", "model_0"]  # the most skilled first
    assert "best" in page and "accuracy vs best (95% interval)" in page


def test_page_is_self_contained_and_every_image_is_a_png(shared_page):
    page = shared_page().read_text()
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    assert "<script" not in page
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    # 5 overlaid charts; per model two confusion matrices; the first model's learning curves and gallery
    assert len(images) == 5 + 3 * 2 + 2
    assert all(base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n" for data in images)


def test_section_ids_are_valid_html_ids():
    assert section_id("lenet") == "model-lenet" and section_id("my model/v2") == "model-my-model-v2"


def test_image_tag_carries_the_png_size(shared_page):
    path = shared_page()
    page = path.read_text()
    counts, shares = (quantised((path.parent / "figures" / "model_0" / f"{stem}.png").read_bytes())
                      for stem in ("confusion", "confusion_normalized"))
    width, height = int.from_bytes(counts[16:20], "big"), int.from_bytes(counts[20:24], "big")
    assert f'width="{width}" height="{height}"' in image_tag(counts, "x") and width > 300 and height > 300
    assert counts != shares
    assert image_tag(counts, "model_0: confusion counts") in page  # the chart of reports/figures, not a redraw


def test_per_class_table_has_every_class_with_its_support():
    cells = [{"actual": a, "predicted": p, "count": n} for a, p, n in
             (("cat", "cat", 8), ("cat", "dog", 2), ("dog", "cat", 1), ("dog", "dog", 4))]
    metrics = {"precision_cat": 0.888889, "recall_cat": 0.8, "f1_cat": 0.842105, "recall_dog": 0.8}
    table = per_class_table(cells, metrics)
    rows = re.findall(r"<tr class=\"\">(.*?)</tr>", table)
    assert len(rows) == 2
    assert re.findall(r">([^<>]*)</td>", rows[0]) == ["cat", "0.8889", "0.8000", "0.8421", "10"]
    assert re.findall(r">([^<>]*)</td>", rows[1])[-1] == "5"
    assert np.isclose(float(re.findall(r">([^<>]*)</td>", rows[1])[2]), 0.8)
    assert "<table>" in table  # five columns: a plain table on a phone too, not cards


def test_page_is_byte_identical_run_to_run(shared_page, tmp_path):
    first = shared_page(2).read_bytes()  # built before, by this process
    second = report_page(tmp_path, n_models=2).read_bytes()
    assert first == second
