from pathlib import Path

import pytest
import yaml

from imgclf.errors import PipelineError
from imgclf.params import load_params, parse_params

REPO = Path(__file__).resolve().parents[1]


def default_raw() -> dict:
    return yaml.safe_load((REPO / "params.yaml").read_text())


def test_repository_params_file_is_valid():
    params = load_params(REPO / "params.yaml")
    assert params.fetch.source == "mnist5k"
    assert [m.name for m in params.train_baselines.models] == ["logreg", "mlp"]
    assert list(params.train_cnn) == ["lenet"]
    assert params.preprocess.image_size == (28, 28)


def test_unknown_key_is_named():
    raw = default_raw()
    raw["train_cnn"]["lenet"]["epoch"] = 3
    with pytest.raises(PipelineError, match=r"train_cnn\.lenet\.epoch: unknown key"):
        parse_params(raw)


def test_wrong_type_names_key_and_value():
    raw = default_raw()
    raw["train_cnn"]["lenet"]["batch_size"] = "big"
    with pytest.raises(PipelineError, match=r"train_cnn\.lenet\.batch_size: .*integer.*'big'"):
        parse_params(raw)


def test_out_of_range_value_is_named():
    raw = default_raw()
    raw["train_cnn"]["lenet"]["epochs"] = 0
    with pytest.raises(PipelineError, match=r"train_cnn\.lenet\.epochs: Input should be greater than 0 \(got 0\)"):
        parse_params(raw)


def test_unknown_layer_type_names_its_index():
    raw = default_raw()
    raw["train_cnn"]["lenet"]["architecture"] = [{"type": "conv", "filters": 8, "kernel": 3}, {"type": "convolution"}]
    with pytest.raises(PipelineError, match=r"^params\.yaml: train_cnn\.lenet\.architecture\.1: .*'convolution'"):
        parse_params(raw)


def test_missing_layer_key_is_named():
    raw = default_raw()
    raw["train_cnn"]["lenet"]["architecture"] = [{"type": "conv", "kernel": 3}]
    with pytest.raises(PipelineError, match=r"^params\.yaml: train_cnn\.lenet\.architecture\.0\.conv\.filters: Field required$"):
        parse_params(raw)


def test_unknown_preset_and_base():
    raw = default_raw()
    raw["train_cnn"]["lenet"]["architecture"] = "resnet9"
    raw["transfer"]["base"] = {"kind": "keras_application", "architecture": "VGG19"}
    with pytest.raises(PipelineError) as error:
        parse_params(raw)
    assert "train_cnn.lenet.architecture" in str(error.value) and "'resnet9'" in str(error.value)
    assert "transfer.base.keras_application.architecture" in str(error.value) and "'VGG19'" in str(error.value)
    assert str(error.value).startswith("params.yaml: 2 invalid parameters: ") and "\n" not in str(error.value)


def test_a_value_that_fits_no_branch_of_a_union_is_one_line_with_each_branchs_expectation():
    raw = default_raw()
    raw["train_cnn"]["lenet"]["architecture"] = "lenett"
    with pytest.raises(PipelineError) as error:
        parse_params(raw)
    assert str(error.value) == ("params.yaml: train_cnn.lenet.architecture: Input should be 'lenet', 'fashion_bn', "
                                "'catdog', 'catdog_bn', 'vgg_bn' or 'cifar_small', or a valid list (got 'lenett')")


def test_model_names_unique_across_stages():
    raw = default_raw()
    raw["train_cnn"]["logreg"] = raw["train_cnn"]["lenet"]
    with pytest.raises(PipelineError, match="duplicate name 'logreg'"):
        parse_params(raw)


def test_split_fractions_must_add_up():
    raw = default_raw()
    raw["split"] = {"train": 0.8, "validation": 0.15, "test": 0.15}
    with pytest.raises(PipelineError, match=r"split: .*must equal 1, got 1.1"):
        parse_params(raw)
    raw["split"]["keep_given"] = True  # then only `validation` is used
    assert parse_params(raw).split.validation == 0.15


def test_baseline_kind_selects_its_schema():
    raw = default_raw()
    raw["train_baselines"]["models"][0]["hidden_layer_sizes"] = [10]
    with pytest.raises(PipelineError, match=r"train_baselines\.models\.0\.logistic_regression\.hidden_layer_sizes: unknown key"):
        parse_params(raw)


def test_duplicate_baseline_names_rejected():
    raw = default_raw()
    raw["train_baselines"]["models"][1]["name"] = "logreg"
    with pytest.raises(PipelineError, match="duplicate name 'logreg'"):
        parse_params(raw)


def test_missing_required_section_is_named():
    raw = default_raw()
    del raw["train_baselines"]
    with pytest.raises(PipelineError, match=r"train_baselines: Field required"):
        parse_params(raw)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(PipelineError, match="parameters file not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "params.yaml"
    bad.write_text("seed: [1\n")
    with pytest.raises(PipelineError, match="not valid YAML"):
        load_params(bad)


def test_registry_gate_names_an_unknown_metric_and_an_empty_bound():
    raw = default_raw()
    raw["evaluate"]["registry"]["gate"] = {"acuracy": {"min": 0.9}, "ece": {}}
    with pytest.raises(PipelineError) as error:
        parse_params(raw)
    assert "evaluate.registry.gate.acuracy.[key]: Input should be 'accuracy'" in str(error.value)
    assert "evaluate.registry.gate.ece: Value error, give min, max or both" in str(error.value)


def test_pretraining_on_the_targets_own_classes_is_refused():
    raw = default_raw()
    raw["fetch"].update(source="cifar10", classes=["deer", "horse"])
    raw["transfer"]["pretrain"]["data"] = {"source": "cifar10", "classes": ["airplane", "deer"]}
    with pytest.raises(PipelineError, match=r"transfer.pretrain.data: pretraining on the target's own source must use other classes"):
        parse_params(raw)
    raw["transfer"]["pretrain"]["data"] = {"source": "cifar10"}  # all classes: the target's too
    with pytest.raises(PipelineError, match="must use other classes"):
        parse_params(raw)
    raw["transfer"]["pretrain"]["data"] = {"source": "cifar10", "classes": ["airplane", "ship"]}
    assert parse_params(raw).transfer.pretrain.data.classes == ["airplane", "ship"]


def test_readme_parameter_reference_is_generated_from_the_schema():
    from imgclf.params.reference import BEGIN, END, markdown

    readme = (REPO / "README.md").read_text()
    assert BEGIN in readme and END in readme, "README.md has no generated parameter reference"
    held = readme[readme.index(BEGIN):readme.index(END) + len(END)] + "\n"
    assert held == markdown(), "README.md's parameter reference is stale: paste `python -m imgclf.params.reference`"


def test_every_key_of_the_schema_has_a_description():
    from imgclf.params.reference import sections

    missing = [f"{cls.__name__}.{name}" for cls in sections() for name, field in cls.model_fields.items()
               if not field.description and name not in ("type", "kind")]
    assert not missing


def test_preset_names_agree_with_the_presets():
    from typing import get_args

    from imgclf.models.presets import PRESETS
    from imgclf.params import PresetName

    assert set(get_args(PresetName)) == set(PRESETS)


def test_augmentation_in_the_input_pipeline_is_refused_for_multi_worker_training():
    raw = default_raw()
    raw["train_cnn"]["lenet"].update(distribution="multi_worker", augmentation={"rotation": 10, "in_pipeline": True})
    with pytest.raises(PipelineError, match=r"train_cnn\.lenet: .*augmentation\.in_pipeline: multi-worker training runs"):
        parse_params(raw)
    raw["train_cnn"]["lenet"]["augmentation"]["in_pipeline"] = False
    assert parse_params(raw).train_cnn["lenet"].augmentation.rotation == 10
