import mlflow
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from imgclf.tracking.store import use_experiment
from imgclf.errors import PipelineError
from imgclf.params import Bound, RegistryParams
from imgclf.tracking.model_logging import log_model
from imgclf.tracking.registry import ALIAS, CARD_ARTIFACT, best_model, describe_verdict, gate_checks, gate_verdict, register_candidate

RESULTS = {
    "logreg": {"accuracy": 0.90, "ece": 0.08, "log_loss": 0.40},
    "lenet": {"accuracy": 0.98, "ece": 0.02, "log_loss": 0.06},
    "mlp": {"accuracy": 0.95, "ece": 0.01, "log_loss": 0.20},
}


def test_best_model_by_a_higher_or_lower_is_better_metric():
    assert best_model(RESULTS, "accuracy") == "lenet"
    assert best_model(RESULTS, "ece") == "mlp"
    assert best_model(RESULTS, "log_loss") == "lenet"
    with pytest.raises(PipelineError, match=r"evaluate.registry.select_by: metric 'roc_auc' was not computed"):
        best_model(RESULTS, "roc_auc")


def test_gate_checks_each_bound():
    gate = {"accuracy": Bound(min=0.95), "ece": Bound(max=0.01), "log_loss": Bound(min=0.0, max=0.1)}
    assert gate_checks(RESULTS["lenet"], gate) == {
        "accuracy >= 0.95": True, "ece <= 0.01": False, "log_loss >= 0.0": True, "log_loss <= 0.1": True,
    }
    with pytest.raises(PipelineError, match=r"evaluate.registry.gate.ece_scaled: this metric was not computed"):
        gate_checks(RESULTS["lenet"], {"ece_scaled": Bound(max=0.1)})


def test_verdict_passes_or_fails_and_says_so():
    passed = gate_verdict(RESULTS, RegistryParams(gate={"accuracy": {"min": 0.97}}))
    assert passed == {"model": "lenet", "select_by": "accuracy", "value": 0.98, "gate": {"accuracy >= 0.97": True},
                      "gate_passed": True, "registered_model": "image-classifier"}
    failed = gate_verdict(RESULTS, RegistryParams(gate={"accuracy": {"min": 0.99}, "ece": {"max": 0.05}}))
    assert failed["gate_passed"] is False and failed["registered_model"] is None
    assert describe_verdict(failed, None) == ("best by accuracy: lenet (0.9800); gate failed (accuracy >= 0.99), "
                                              "nothing registered")
    assert describe_verdict(passed, 3).endswith("passed, registered image-classifier version 3 as 'candidate'")
    assert describe_verdict(passed, None).endswith("not registered: the MLflow run that logged it is not in this store")
    assert gate_verdict(RESULTS, RegistryParams())["gate_passed"] is True  # no bounds, nothing to fail


def test_register_candidate_moves_the_alias(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("DVC_ROOT", str(tmp_path))
    use_experiment("exp")
    x, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 2
    run_ids, uris = [], []
    for _ in range(2):
        with mlflow.start_run() as run:  # as a stage logs it: skops, pinned requirements (none inferred)
            uris.append(log_model(LogisticRegression().fit(x, y), "sklearn"))
            run_ids.append(run.info.run_id)
    first = register_candidate("digits", uris[0], {"accuracy >= 0.9": True})
    second = register_candidate("digits", uris[1], {"accuracy >= 0.9": True}, card="# Model card: lr\n\nfine\n",
                                tags={"model": "logreg"})
    assert (first, second) == (1, 2)
    client = mlflow.MlflowClient()
    version = client.get_model_version_by_alias("digits", ALIAS)
    assert int(version.version) == 2 and version.run_id == run_ids[1]
    assert version.tags == {"gate": "accuracy >= 0.9", "gate_passed": "True", "model": "logreg"}
    assert client.get_model_version("digits", "1").tags == {"gate": "accuracy >= 0.9", "gate_passed": "True"}
    assert version.description == "# Model card: lr\n\nfine\n"
    assert client.download_artifacts(run_ids[1], CARD_ARTIFACT, str(tmp_path / "card")) and \
        (tmp_path / "card" / CARD_ARTIFACT).read_text() == version.description
    assert not client.get_model_version("digits", "1").description  # registered without a card
    assert CARD_ARTIFACT not in [f.path for f in client.list_artifacts(run_ids[0])]
    loaded = mlflow.sklearn.load_model(f"models:/digits@{ALIAS}")
    assert loaded.predict(x).tolist() == LogisticRegression().fit(x, y).predict(x).tolist()
