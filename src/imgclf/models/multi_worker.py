"""Training over several machines: ``MultiWorkerMirroredStrategy`` configured by ``TF_CONFIG``.

Every worker runs the same stage with its own ``TF_CONFIG`` (the cluster's addresses and its own
task). Every worker streams its parts from the prepared shards and reads only its own images:
the positions, shuffled alike on every worker, are dealt out round-robin before any pixels are
read (:func:`imgclf.models.inputs.batches` with ``shard``, through
``distribute_datasets_from_function``), so each step's global batch of ``batch_size`` images is
split between the workers, whose gradients are summed, and every worker ends with the same
weights. The chief
(task ``chief``, or ``worker`` 0 when the cluster has no chief) alone writes outputs and logs.

Keras 3.15's ``fit`` cannot run under this strategy with more than one worker (it reduces the
first batch and the step's scalar metrics with ``axis=0`` across workers, which TensorFlow
rejects), so :func:`fit_multi_worker` runs Keras' own ``train_step``/``test_step`` in a small
epoch loop of its own, with the Keras callbacks (early stopping, learning-rate reduction).

A worker that dies stops the others: every collective operation has a deadline
(``CommunicationOptions(timeout_seconds=...)``, made by
:func:`imgclf.models.training.distribution_strategy`), and TensorFlow's health check aborts the
collectives once a peer stops answering; the error is turned into one line naming the cause.
"""

from __future__ import annotations

import json
import os
from typing import Any

import keras
import numpy as np

from imgclf.errors import PipelineError
from imgclf.models.inputs import Images, batches
from imgclf.params import FitParams


def tf_config() -> dict[str, Any]:
    """The parsed ``TF_CONFIG``; a :class:`PipelineError` naming what is wrong with it."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise PipelineError("distribution: multi_worker needs TF_CONFIG (the cluster and this worker's task), "
                            "e.g. {\"cluster\": {\"worker\": [\"host1:12345\", \"host2:12345\"]}, "
                            "\"task\": {\"type\": \"worker\", \"index\": 0}}")
    try:
        config = json.loads(raw)
        cluster, task = config["cluster"], config["task"]
        kind, index = task["type"], int(task["index"])
        if kind not in cluster or not 0 <= index < len(cluster[kind]):
            raise KeyError(f"{kind}[{index}]")
    except (ValueError, KeyError, TypeError) as exc:
        raise PipelineError(f"TF_CONFIG is not a cluster with this worker's task in it ({exc}): {' '.join(raw.split())}") from None
    return config


def is_chief() -> bool:
    """Whether this worker of ``TF_CONFIG`` writes the outputs: task ``chief``, or ``worker`` 0
    when the cluster has no chief. A :class:`PipelineError` when ``TF_CONFIG`` is missing or wrong."""
    config = tf_config()
    kind, index = config["task"]["type"], int(config["task"]["index"])
    if "chief" in config["cluster"]:
        return kind == "chief"
    return kind == "worker" and index == 0


def sharded(strategy, data: Images, batch_size: int, seed: int, weights: dict[int, float] | None = None,
            shuffle: bool = False):
    """``data`` as a distributed dataset: each worker's pipeline reads its own share of every
    global batch of ``batch_size`` images; shuffled the same way on every worker (``seed``), so
    that the shares are disjoint; ``weights`` per class as sample weights."""
    if batch_size % strategy.num_replicas_in_sync:
        raise PipelineError(f"batch_size {batch_size} does not split evenly over {strategy.num_replicas_in_sync} "
                            "replicas; make it a multiple of their number")

    def worker_batches(context):
        return batches(data, context.get_per_replica_batch_size(batch_size), seed if shuffle else None, weights,
                       shard=(context.num_input_pipelines, context.input_pipeline_id))

    return strategy.distribute_datasets_from_function(worker_batches)


def _run_epoch(strategy, model: keras.Model, step, dataset) -> dict[str, float]:
    """Run ``step`` (Keras' train or test step) on every batch; the metrics over every worker's
    batches. Each worker's metric variables count its own shard, so their states (totals and
    counts) are summed over the workers, the same on each, before the results are read."""
    model.reset_metrics()
    steps = 0
    for batch in dataset:
        step(batch)
        steps += 1
    if not steps:
        raise PipelineError("multi-worker training: a worker's shard of the data is empty; use fewer workers")
    for variable in [v for metric in model.metrics for v in metric.variables]:
        local = strategy.run(lambda v=variable: v.value + 0)
        variable.assign(strategy.reduce("SUM", local, axis=None))
    return {k: float(v) for k, v in model.get_metrics_result().items()}


def fit_multi_worker(
    model: keras.Model,
    strategy,
    train: Images,
    validation: Images,
    params: FitParams,
    callbacks: list[keras.callbacks.Callback] = (),
    seed: int = 0,
    class_weight: dict[int, float] | None = None,
) -> keras.callbacks.History:
    """As :func:`imgclf.models.training.fit`, over the workers of ``strategy`` (the model built
    and compiled in its scope)."""
    import tensorflow as tf

    from imgclf.models.training import training_callbacks

    train_data = sharded(strategy, train, params.batch_size, seed, class_weight, shuffle=True)
    val_data = sharded(strategy, validation, params.batch_size, seed)
    with strategy.scope():  # the optimiser's and metrics' variables, mirrored, before tracing
        first = (train.take(np.arange(1)), train.labels[:1]) + ((np.ones(1, np.float32),) if class_weight else ())
        model._symbolic_build(data_batch=first)  # what fit does first; public API has no equivalent
    train_step = tf.function(lambda batch: strategy.run(model.train_step, args=(batch,)))
    test_step = tf.function(lambda batch: strategy.run(model.test_step, args=(batch,)))
    history = keras.callbacks.History()
    listeners = keras.callbacks.CallbackList([*training_callbacks(params), *callbacks, history], model=model,
                                             epochs=params.epochs)
    model.stop_training = False
    listeners.on_train_begin()
    try:
        for epoch in range(params.epochs):
            listeners.on_epoch_begin(epoch)
            logs = _run_epoch(strategy, model, train_step, train_data)
            logs |= {f"val_{k}": v for k, v in _run_epoch(strategy, model, test_step, val_data).items()}
            print(f"Epoch {epoch + 1}/{params.epochs} - " + " - ".join(f"{k}: {v:.4f}" for k, v in logs.items()),
                  flush=True)
            listeners.on_epoch_end(epoch, logs)
            if model.stop_training:
                break
    except tf.errors.OpError as exc:
        raise (worker_lost(exc) or exc) from None
    listeners.on_train_end()
    return history


def worker_lost(exc: BaseException) -> PipelineError | None:
    """One line for a TensorFlow error that means a peer worker is gone; None for any other."""
    import tensorflow as tf

    lost = (tf.errors.UnavailableError, tf.errors.DeadlineExceededError, tf.errors.CancelledError,
            tf.errors.AbortedError)
    if not isinstance(exc, lost):
        return None
    import re

    message = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", str(exc)).replace("\n", " ").strip()
    return PipelineError(f"multi-worker training stopped: a worker of TF_CONFIG stopped answering "
                         f"({type(exc).__name__}: {message[:240]}); restart every worker")


def weights_digest(model: keras.Model) -> str:
    """The sha256 of the model's weights, equal on every worker after a synchronous step."""
    import hashlib

    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()
