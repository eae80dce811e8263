"""The registry gate: pick the best model by a metric, check it against bounds from params, and
register it in MLflow's model registry with the alias ``candidate`` only if it passes."""

from __future__ import annotations

from collections.abc import Mapping

from imgclf.errors import PipelineError
from imgclf.params import LOWER_IS_BETTER, Bound, RegistryParams

ALIAS = "candidate"
CARD_ARTIFACT = "model_card.md"  # the model card, on the run that logged the registered model


def best_model(results: Mapping[str, Mapping[str, float]], metric: str) -> str:
    """The model with the best ``metric`` (lowest for losses and calibration errors)."""
    missing = [name for name, metrics in results.items() if metric not in metrics]
    if missing:
        raise PipelineError(f"evaluate.registry.select_by: metric {metric!r} was not computed for {missing}")
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    return max(results, key=lambda name: sign * results[name][metric])


def gate_checks(metrics: Mapping[str, float], gate: Mapping[str, Bound]) -> dict[str, bool]:
    """Each bound of the gate, written ``accuracy >= 0.95``, and whether ``metrics`` meet it."""
    checks: dict[str, bool] = {}
    for metric, bound in gate.items():
        if metric not in metrics:
            raise PipelineError(f"evaluate.registry.gate.{metric}: this metric was not computed "
                                "(is evaluate.temperature_scaling off?)")
        if bound.min is not None:
            checks[f"{metric} >= {bound.min}"] = bool(metrics[metric] >= bound.min)
        if bound.max is not None:
            checks[f"{metric} <= {bound.max}"] = bool(metrics[metric] <= bound.max)
    return checks


def gate_verdict(results: Mapping[str, Mapping[str, float]], registry: RegistryParams) -> dict:
    """The gate's verdict on the best model: which model, its value of ``select_by``, each
    check and whether all pass. It depends on the metrics alone (the registry's version number,
    which grows with every registration, goes to the run index instead)."""
    best = best_model(results, registry.select_by)
    checks = gate_checks(results[best], registry.gate)
    passed = all(checks.values())
    return {"model": best, "select_by": registry.select_by, "value": results[best][registry.select_by],
            "gate": checks, "gate_passed": passed, "registered_model": registry.name if passed else None}


def describe_verdict(verdict: Mapping, version: int | None) -> str:
    """One line for the log: the best model, the gate's result, what was registered (``version``)."""
    line = f"best by {verdict['select_by']}: {verdict['model']} ({verdict['value']:.4f}); gate "
    failed = [check for check, ok in verdict["gate"].items() if not ok]
    if failed:
        return line + f"failed ({', '.join(failed)}), nothing registered"
    if verdict["registered_model"] is None:
        return line + "passed, registry off (evaluate.registry.name is null)"
    if version is None:
        return line + "passed, not registered: the MLflow run that logged it is not in this store"
    return line + f"passed, registered {verdict['registered_model']} version {version} as {ALIAS!r}"


def register_candidate(registered_name: str, model_uri: str, checks: Mapping[str, bool], *, card: str | None = None,
                       tags: Mapping[str, str] | None = None) -> int:
    """Register the MLflow model ``model_uri`` (``models:/m-...``) as a new version of
    ``registered_name``, tagged with the gate's checks (and ``tags``), and point the alias
    ``candidate`` at it; the version number. ``card``: Markdown set as the version's description
    and logged as ``model_card.md`` on the run that logged the model."""
    import mlflow

    tags = {"gate": ", ".join(checks) or "none", "gate_passed": str(all(checks.values())), **(tags or {})}
    version = mlflow.register_model(model_uri, registered_name, tags=tags)
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(registered_name, ALIAS, version.version)
    if card is not None:
        client.update_model_version(registered_name, version.version, description=card)
        if version.run_id:
            client.log_text(version.run_id, card, CARD_ARTIFACT)
    return int(version.version)
