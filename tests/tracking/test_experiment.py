from pathlib import Path

import pytest
import yaml

from imgclf.errors import PipelineError
from imgclf.tracking.experiment import apply, exp_run_command, load_config, overrides
from imgclf.params import parse_params

REPO = Path(__file__).resolve().parents[2]
PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar_deer_horse", "dogs_vs_cats"])
def test_every_configuration_gives_valid_params(name):
    config = load_config(name, REPO / "configs")
    assert config["description"] and config["needs"]
    params = parse_params(apply(PARAMS, config, ["fetch.path=/data/photos"]))
    assert params.fetch.path == "/data/photos"


def test_configurations_set_what_the_tutorials_use():
    configs = REPO / "configs"
    mnist = parse_params(apply(PARAMS, load_config("mnist", configs)))
    assert [m.name for m in mnist.train_baselines.models] == ["logreg", "mlp_50", "mlp_128_64"]
    assert mnist.train_cnn["lenet_stop_985"].early_stopping.target == 0.985
    fashion = parse_params(apply(PARAMS, load_config("fashion_mnist", configs)))
    assert list(fashion.train_cnn) == ["fashion_bn"] and fashion.train_cnn["fashion_bn"].reduce_lr.factor == 0.5
    cifar = parse_params(apply(PARAMS, load_config("cifar_deer_horse", configs)))
    assert cifar.fetch.classes == ["deer", "horse"] and cifar.preprocess.color == "rgb"
    assert cifar.train_cnn["cifar_small_augmented"].augmentation.horizontal_flip is True
    assert len(cifar.transfer.pretrain.data.classes) == 8 and cifar.transfer.augmentation.rotation == 15


def test_overrides_in_hydra_syntax():
    config = {"remove": ["train_cnn.lenet"], "set": {"fetch": {"source": "mnist"}, "preprocess": {"image_size": [32, 32]},
                                                     "train_cnn": {"x": {"architecture": [{"type": "flatten"}]}}}}
    assert overrides(config, PARAMS, ["fetch.path=/d"]) == [
        "~train_cnn.lenet", "++fetch.source=mnist", "++preprocess.image_size=[32, 32]",
        "++train_cnn.x={architecture: [{type: flatten}]}", "++fetch.path=/d",
    ]
    # A section that is null in params.yaml is set whole, not key by key under a null.
    null_section = {"set": {"transfer": {"augmentation": {"rotation": 15}, "head": {"units": 64}}}}
    assert overrides(null_section, PARAMS) == ["++transfer.augmentation={rotation: 15}", "++transfer.head.units=64"]


def test_experiment_named_after_the_configuration_or_given_name():
    config = {"set": {"fetch": {"source": "mnist"}}}
    assert exp_run_command("mnist", config, PARAMS) == ["dvc", "exp", "run", "-n", "mnist", "-S", "++fetch.source=mnist"]
    variant = exp_run_command("mnist-rgb", config, PARAMS, ["preprocess.color=rgb"])
    assert variant[:5] == ["dvc", "exp", "run", "-n", "mnist-rgb"]
    assert variant[5:] == ["-S", "++fetch.source=mnist", "-S", "++preprocess.color=rgb"]


def test_unknown_and_bad_configurations(tmp_path):
    with pytest.raises(PipelineError, match="no configuration 'nope' in .*there are: cifar_deer_horse, dogs_vs_cats"):
        load_config("nope", REPO / "configs")
    (tmp_path / "bad.yaml").write_text("needs: a: b: c\n")
    with pytest.raises(PipelineError, match="bad.yaml: not valid YAML"):
        load_config("bad", tmp_path)
    (tmp_path / "odd.yaml").write_text("sett: {}\n")
    with pytest.raises(PipelineError, match=r"unknown keys \['sett'\]"):
        load_config("odd", tmp_path)
