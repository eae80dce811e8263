import csv
import re
import struct

from imgclf.params.sweep import parse_sweep
from imgclf.tracking.sweep_outputs import best_row, chart_distributions, chart_names, write_outputs

SWEEP = {"method": "grid", "metric": {"key": "lenet.log_loss", "direction": "minimize"},
         "params": {"train_cnn.lenet.learning_rate": [0.001, 0.002], "train_cnn.lenet.optimizer": ["adam", "sgd"]}}


def rows() -> list[dict]:
    values = [0.30, 0.10, None, 0.20]
    grid = [(0.001, "adam"), (0.001, "sgd"), (0.002, "adam"), (0.002, "sgd")]
    return [{"sweep": "s", "number": n, "name": f"s-{n:03d}", "state": "COMPLETE" if v is not None else "FAIL",
             "value": v, "params": {"train_cnn.lenet.learning_rate": lr, "train_cnn.lenet.optimizer": opt}}
            for n, (v, (lr, opt)) in enumerate(zip(values, grid))]


def test_the_table_is_sorted_by_the_metric_with_failures_last(tmp_path):
    sweep = parse_sweep(SWEEP, "s.yaml")
    folder = write_outputs("s", rows(), sweep, tmp_path)
    with open(folder / "trials.csv") as handle:
        table = list(csv.reader(handle))
    assert table == [
        ["rank", "dvc experiment", "state", "lenet.log_loss", "train_cnn.lenet.learning_rate", "train_cnn.lenet.optimizer"],
        ["1", "s-001", "complete", "0.1", "0.001", "sgd"],
        ["2", "s-003", "complete", "0.2", "0.002", "sgd"],
        ["3", "s-000", "complete", "0.3", "0.001", "adam"],
        ["", "s-002", "fail", "", "0.002", "adam"],
    ]
    assert "| 1 | s-001 | complete | 0.1 | 0.001 | sgd |" in (folder / "trials.md").read_text()
    assert best_row(rows(), sweep)["name"] == "s-001"


def test_the_charts_are_drawn_and_the_same_bytes_every_time(tmp_path):
    sweep = parse_sweep(SWEEP, "s.yaml")
    first = write_outputs("s", rows(), sweep, tmp_path / "a")
    second = write_outputs("s", rows(), sweep, tmp_path / "b")
    names = ["history.png", "metric_vs_params.png", "parallel_coordinates.png", "param_importances.png"]
    assert sorted(p.name for p in first.glob("*.png")) == names
    for name in names:
        data = (first / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        assert data == (second / name).read_bytes(), name


def test_a_grid_of_numbers_is_drawn_on_a_numeric_axis():
    dists = chart_distributions(parse_sweep(SWEEP, "s.yaml"))
    assert dists["train_cnn.lenet.learning_rate"].low == 0.001 and dists["train_cnn.lenet.learning_rate"].high == 0.002
    assert dists["train_cnn.lenet.optimizer"].choices == ("adam", "sgd")


def test_one_finished_trial_draws_only_the_history(tmp_path, capsys):
    sweep = parse_sweep(SWEEP, "s.yaml")
    folder = write_outputs("s", rows()[:1], sweep, tmp_path)
    assert [p.name for p in folder.glob("*.png")] == ["history.png"]
    assert "1 finished trial(s), 0 varied parameter(s): only the history is drawn" in capsys.readouterr().out


def test_the_page_embeds_the_table_best_first_and_every_chart(tmp_path):
    sweep = parse_sweep({**SWEEP, "description": "tune <LeNet>"}, "s.yaml")
    folder = write_outputs("s", rows(), sweep, tmp_path)
    page = (folder / "index.html").read_text()
    assert "<title>Sweep s</title>" in page and "tune &lt;LeNet&gt;" in page
    assert "best: <b>s-001</b>, lenet.log_loss = 0.1" in page
    order = [page.index(f'data-label="dvc experiment">s-00{n}<') for n in (1, 3, 0, 2)]
    assert order == sorted(order)  # ranked as trials.csv: best first, the failed trial last
    embedded = re.findall(r'<img alt="([^"]+)" width="(\d+)" height="(\d+)" src="data:image/png;base64,', page)
    assert len(embedded) == 4
    for name in ("history", "parallel_coordinates", "param_importances", "metric_vs_params"):
        png = (folder / f"{name}.png").read_bytes()
        assert f'width="{struct.unpack(">II", png[16:24])[0]}"' in page, name
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")


def test_the_charts_name_parameters_without_the_part_they_share():
    assert chart_names(["train_cnn.lenet.augmentation.rotation", "train_cnn.lenet.learning_rate"]) == {
        "train_cnn.lenet.augmentation.rotation": "augmentation.rotation",
        "train_cnn.lenet.learning_rate": "learning_rate"}
    assert chart_names(["transfer.fine_tune.learning_rate"]) == {
        "transfer.fine_tune.learning_rate": "transfer.fine_tune.learning_rate"}  # alone: named in full
    assert chart_names(["a.x", "b.x"]) == {"a.x": "a.x", "b.x": "b.x"}
    assert chart_names(["a.b", "a.b.c"]) == {"a.b": "b", "a.b.c": "b.c"}  # never shortened to nothing
