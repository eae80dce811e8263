from pathlib import Path

import pytest
import yaml

from imgclf.errors import PipelineError
from imgclf.tracking.experiment import apply, exp_run_command, load_config, overrides
from imgclf.params import parse_params

REPO = Path(__file__).resolve().parents[2]
PARAMS = yaml.safe_load((REPO / "params.yaml").read_text())


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar_deer_horse", "dogs_vs_cats", "dogs_vs_cats_transfer"])
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


# Hydra syntax DVC parses itself: a list, a nested mapping (with a list of mappings), a section
# set whole where params.yaml has null, a float, a removal, and an extra override.
SMALL_PARAMS = {
    "seed": 42,
    "fetch": {"source": "mnist5k", "path": "data/external"},
    "preprocess": {"image_size": [28, 28], "color": "grayscale"},
    "train_cnn": {"lenet": {"architecture": "lenet", "epochs": 30}, "keep": {"architecture": "lenet", "reduce_lr": None}},
    "transfer": {"augmentation": None, "head": {"units": 128, "dropout": 0.3}},
}
HYDRA_CONFIG = {
    "remove": ["train_cnn.lenet"],
    "set": {
        "preprocess": {"image_size": [50, 50]},
        "train_cnn": {
            "keep": {"reduce_lr": {"monitor": "val_loss", "factor": 0.5, "min_lr": 1.0e-5}},
            "x": {"architecture": [{"type": "conv", "filters": 8}, {"type": "flatten"}], "epochs": 2},
        },
        "transfer": {"augmentation": {"rotation": 15, "horizontal_flip": True}, "head": {"units": 64}},
    },
}
HYDRA_EXTRA = ["fetch.path=/data/dogs", "seed=7"]


def test_apply_is_what_dvc_makes_of_hydra_syntax():
    result = apply(SMALL_PARAMS, HYDRA_CONFIG, HYDRA_EXTRA)
    assert result == {
        "seed": 7,
        "fetch": {"source": "mnist5k", "path": "/data/dogs"},
        "preprocess": {"image_size": [50, 50], "color": "grayscale"},
        "train_cnn": {
            # DVC's YAML writer gives 1.0e-5 as `1e-05`, which the stages' YAML reader (PyYAML)
            # reads as a string; apply shows what the stages will really read.
            "keep": {"architecture": "lenet", "reduce_lr": {"monitor": "val_loss", "factor": 0.5, "min_lr": "1e-05"}},
            "x": {"architecture": [{"type": "conv", "filters": 8}, {"type": "flatten"}], "epochs": 2},
        },
        "transfer": {"augmentation": {"rotation": 15, "horizontal_flip": True}, "head": {"units": 64, "dropout": 0.3}},
    }
    assert SMALL_PARAMS["train_cnn"]["lenet"] and SMALL_PARAMS["seed"] == 42  # the input is left alone


def test_apply_equals_the_params_yaml_of_a_real_dvc_exp_run(tmp_path):
    """The same overrides through the real ``dvc exp run -S`` CLI, in a throwaway repository."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    env.pop("DVC_ROOT", None)
    dvc = str(Path(sys.executable).parent / "dvc")

    def sh(*command):
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"

    (tmp_path / "params.yaml").write_text(yaml.safe_dump(SMALL_PARAMS, sort_keys=False))
    (tmp_path / "dvc.yaml").write_text("stages:\n  noop:\n    cmd: echo ok\n    params: [seed]\n")
    sh("git", "init", "-q")
    sh(dvc, "init", "-q")
    sh("git", "add", "-A")
    sh("git", "commit", "-q", "-m", "base")
    command = exp_run_command("hydra-check", HYDRA_CONFIG, SMALL_PARAMS, HYDRA_EXTRA)
    sh(dvc, *command[1:])
    assert yaml.safe_load((tmp_path / "params.yaml").read_text()) == apply(SMALL_PARAMS, HYDRA_CONFIG, HYDRA_EXTRA)


def test_overrides_dvc_would_reject_are_pipeline_errors():
    with pytest.raises(PipelineError, match=r"dvc exp run -S would reject.*~train_cnn\.nope"):
        apply(SMALL_PARAMS, {"remove": ["train_cnn.nope"]})
    with pytest.raises(PipelineError, match="would reject"):
        apply(SMALL_PARAMS, {}, ["fetch.path=a,b"])  # a Hydra sweep: `dvc exp run` refuses it without --queue
    with pytest.raises(PipelineError, match="would reject"):
        apply(SMALL_PARAMS, {}, ["fetch.path=a=b"])  # Hydra needs quotes around '='
