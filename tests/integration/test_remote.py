"""The committed DVC remote: what one person pushes, a fresh clone pulls, and then re-runs only
what it changes.

The pipeline repository itself is left as it is: a clone of its commit, given the pipeline's DVC
cache, does the pushing, and a second clone does the pulling. Both point the committed default
remote at a temporary folder with ``dvc remote modify --local``, as the README says.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.integration.tiny import all_runs, dvc, git, set_param, stages_run, store_client

pytestmark = pytest.mark.integration

STAGES = {"fetch", "preprocess", "split", "train_baselines", "train_cnn@lenet", "pretrain", "transfer", "evaluate"}


def stages_listed(status: subprocess.CompletedProcess) -> set[str]:
    """The stages `dvc status` reports as changed (each on its own unindented ``name:`` line)."""
    return set(re.findall(r"^(\S+):$", status.stdout, re.MULTILINE))


def remotes(root: Path) -> list[str]:
    """`dvc remote list`'s words: name, resolved URL, "(default)" (a terminal wide enough that no path wraps)."""
    return dvc(root, "remote", "list", COLUMNS="100000").stdout.split()


def test_a_clone_pulls_the_results_and_reruns_only_what_it_changed(pipeline, tmp_path):
    remote = tmp_path / "remote"
    # A team's shared MLflow store: evaluate adds test metrics to the runs of models it did not train.
    store = {"MLFLOW_TRACKING_URI": f"sqlite:///{pipeline / 'mlflow.db'}"}

    # Whoever ran the pipeline pushes its results: a clone of the commit, reading the pipeline's cache.
    pusher = tmp_path / "pusher"
    git(tmp_path, "clone", "-q", str(pipeline), str(pusher))
    # The committed default remote is the folder beside the repository.
    assert remotes(pusher) == ["shared", str(tmp_path / "imgclf-dvc-remote"), "(default)"]
    dvc(pusher, "remote", "modify", "--local", "shared", "url", str(remote))
    assert remotes(pusher) == ["shared", str(remote), "(default)"]
    dvc(pusher, "cache", "dir", "--local", str(pipeline / ".dvc" / "cache"))
    pushed = dvc(pusher, "push")
    assert re.search(r"^\d+ files? pushed", pushed.stdout, re.MULTILINE), pushed.stdout
    assert (remote / "files" / "md5").is_dir()

    # A teammate clones: the code and dvc.lock, but none of the data or models.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(pipeline), str(clone))
    dvc(clone, "remote", "modify", "--local", "shared", "url", str(remote))
    assert stages_listed(dvc(clone, "status")) == STAGES  # without the pull, every stage would run

    dvc(clone, "pull")
    assert "Data and pipelines are up to date." in dvc(clone, "status").stdout
    nothing = dvc(clone, "repro", **store)
    assert stages_run(nothing) == set(), nothing.stdout
    assert subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True,
                          check=True).stdout == ""  # dvc.lock, metrics and reports exactly as committed

    client = store_client(pipeline)
    comparisons = len(all_runs(client, "attributes.run_name = 'evaluate/comparison'"))
    before = json.loads((clone / "reports" / "metrics.json").read_text())
    set_param(clone, ("train_cnn", "lenet", "learning_rate"), 0.0045)  # a rate no other test trains
    changed = dvc(clone, "repro", **store)
    assert stages_run(changed) == {"train_cnn@lenet", "evaluate"}, changed.stdout
    after = json.loads((clone / "reports" / "metrics.json").read_text())
    assert set(after) == set(before)
    assert after["logreg"] == before["logreg"] and after["transfer"] == before["transfer"]
    assert after["lenet"] != before["lenet"]
    # Both runs the clone made are in the shared store, beside the pulled models' own.
    trained = all_runs(client, "attributes.run_name = 'train_cnn/lenet' AND params.learning_rate = '0.0045'")
    assert [run.info.status for run in trained] == ["FINISHED"]
    assert len(all_runs(client, "attributes.run_name = 'evaluate/comparison'")) == comparisons + 1
