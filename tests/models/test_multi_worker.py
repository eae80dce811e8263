import json

import pytest

from imgclf.errors import PipelineError
from imgclf.models.cnn import build_cnn
from imgclf.models.multi_worker import fit_multi_worker, is_chief, tf_config, weights_digest, worker_lost
from imgclf.models.training import compile_model, seed_everything
from imgclf.params import EarlyStoppingParams, FitParams
from tests.helpers import SMALL, make_imageset


def config(kind: str, index: int, chief: bool = False) -> str:
    cluster = {"worker": ["h1:1", "h2:1"], **({"chief": ["h0:1"]} if chief else {})}
    return json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}})


def test_the_chief_is_worker_0_unless_the_cluster_names_one(monkeypatch):
    for value, chief in [(config("worker", 0), True), (config("worker", 1), False),
                         (config("chief", 0, chief=True), True), (config("worker", 0, chief=True), False)]:
        monkeypatch.setenv("TF_CONFIG", value)
        assert is_chief() is chief, value


@pytest.mark.parametrize("value, words", [
    (None, "needs TF_CONFIG"),
    ("{not json", "TF_CONFIG is not a cluster"),
    (json.dumps({"cluster": {"worker": ["h:1"]}, "task": {"type": "worker", "index": 3}}), "worker[3]"),
    (json.dumps({"task": {"type": "worker", "index": 0}}), "'cluster'"),
])
def test_a_missing_or_wrong_tf_config_is_one_clear_error(monkeypatch, value, words):
    if value is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", value)
    with pytest.raises(PipelineError, match="TF_CONFIG") as error:
        tf_config()
    assert words in str(error.value) and "\n" not in str(error.value)


def test_a_lost_peer_becomes_one_line_and_other_errors_pass_through():
    import tensorflow as tf

    error = worker_lost(tf.errors.UnavailableError(
        None, None, "{{function_node __wrapped__CollectiveReduceV2}} Collective ops is aborted by: task:1\nunhealthy"))
    assert str(error).startswith("multi-worker training stopped: a worker of TF_CONFIG stopped answering")
    assert "function_node" not in str(error) and "\n" not in str(error) and "task:1 unhealthy" in str(error)
    assert worker_lost(tf.errors.InvalidArgumentError(None, None, "bad shape")) is None
    assert worker_lost(ValueError("x")) is None


def test_the_loop_trains_and_obeys_the_callbacks_on_one_worker():
    """The same loop on the default strategy (one process): it learns, the metrics it logs are
    Keras' own, and early stopping with a target ends it at the first epoch reaching it."""
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    train, val = make_imageset(seed=0), make_imageset(seed=1)
    stop = EarlyStoppingParams(monitor="accuracy", patience=50, target=0.9)
    params = FitParams(epochs=30, batch_size=8, learning_rate=0.01, early_stopping=stop)
    digests = []
    for _ in range(2):
        seed_everything(0)
        model = build_cnn(SMALL, train.images.shape[1:], 3)
        compile_model(model, params)
        history = fit_multi_worker(model, strategy, train, val, params, seed=0)
        digests.append(weights_digest(model))
    accuracies = history.history["accuracy"]
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert accuracies[-1] >= 0.9 and all(a < 0.9 for a in accuracies[:-1]) and len(accuracies) < 30
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert digests[0] == digests[1]  # deterministic, run to run
