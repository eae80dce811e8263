"""The sweep file's schema: every sweep in sweeps/ is valid, and a mistake is one line naming the key."""

from pathlib import Path

import pytest

from imgclf.errors import PipelineError
from imgclf.params.sweep import Range, load_sweep, parse_sweep

REPO = Path(__file__).resolve().parents[1]
GRID = {"method": "grid", "metric": {"key": "lenet.accuracy", "direction": "maximize"},
        "params": {"train_cnn.lenet.learning_rate": [0.001, 0.002]}}


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar_deer_horse", "dogs_vs_cats"])
def test_the_repository_sweeps_are_valid(name):
    sweep = load_sweep(name, REPO / "sweeps")
    assert sweep.experiment == name and sweep.description


def test_a_range_keeps_its_type_and_scale():
    sweep = parse_sweep({**GRID, "method": "optuna", "trials": 3,
                         "params": {"a.b": {"low": 1.0e-4, "high": 1.0e-2, "log": True}, "c": [16, 32]}}, "s.yaml")
    assert sweep.params["a.b"] == Range(low=1.0e-4, high=1.0e-2, log=True) and sweep.params["c"] == [16, 32]


@pytest.mark.parametrize("change, message", [
    ({"trails": 3}, "s.yaml: trails: unknown key (check the spelling)"),
    ({"metric": {"key": "lenet.accuracy", "direction": "up"}},
     "s.yaml: metric.direction: Input should be 'maximize' or 'minimize' (got 'up')"),
    ({"metric": {"key": "accuracy", "direction": "maximize"}}, "s.yaml: metric.key: String should match pattern"),
    ({"params": {"a.b": {"low": 0.1}}}, "s.yaml: params.a.b.high: Field required"),
    ({"params": {"a.b": {"low": 1, "high": 2, "lgo": True}}, "method": "random", "trials": 2},
     "s.yaml: params.a.b.lgo: unknown key (check the spelling)"),
    ({"params": {"a.b": {"low": 2, "high": 1}}, "method": "random", "trials": 2},
     "s.yaml: params.a.b: low (2) must be below high (1)"),
    ({"params": {"a.b": {"low": 1, "high": 2}}}, "s.yaml: params.a.b: a grid needs a list of values, not a range"),
    ({"method": "random"}, "s.yaml: trials: a random sweep needs a number of trials"),
    ({"trials": 4}, "s.yaml: trials: a grid runs every combination; remove trials"),
    ({"pruning": {"run": "train_cnn/lenet"}}, "s.yaml: pruning: only an optuna sweep prunes"),
    ({"params": {"a.b": []}}, "s.yaml: params.a.b: give at least one value"),
])
def test_a_mistake_is_one_line_naming_the_key(change, message):
    with pytest.raises(PipelineError) as error:
        parse_sweep({**GRID, **change}, "s.yaml")
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


@pytest.mark.parametrize("path", sorted((REPO / "sweeps").glob("*.yaml")), ids=lambda path: path.stem)
def test_every_sweep_file_is_valid_and_names_a_configuration(path):
    sweep = load_sweep(path.stem, REPO / "sweeps")
    assert sweep.description and (REPO / "configs" / f"{sweep.experiment}.yaml").is_file()


def test_a_missing_sweep_lists_those_there_are(tmp_path):
    for name in ("mnist", "cifar_transfer", "dogs_vs_cats"):
        (tmp_path / f"{name}.yaml").write_text((REPO / "sweeps" / f"{name}.yaml").read_text())
    with pytest.raises(PipelineError, match=r"no sweep 'mnsit' in .*; there are: cifar_transfer, dogs_vs_cats, mnist$"):
        load_sweep("mnsit", tmp_path)
