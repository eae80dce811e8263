"""Run a named configuration (``configs/NAME.yaml``) as a DVC experiment.

    python -m imgclf.tracking.experiment NAME [--name EXPERIMENT] [--set KEY=VALUE ...]

A configuration lists what it changes in ``params.yaml`` (``set``) and what it removes
(``remove``); they become ``dvc exp run -n NAME -S ...`` overrides (Hydra syntax: ``++key=value``
adds or replaces, ``~key`` removes). The experiment is tracked by DVC (``dvc exp show``) and
its MLflow runs carry the tag ``dvc_exp_name``. ``--set`` adds overrides of your own, such as
``fetch.path=/data/dogs`` for a configuration that needs a folder. The experiment is named
after the configuration; ``--name`` names a variant (DVC refuses a name it already has).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from imgclf.errors import PipelineError, run_stage
from imgclf.params import parse_params
from imgclf.tools import run_tool

CONFIGS = Path("configs")


def load_config(name: str, configs: Path = CONFIGS) -> dict:
    """``configs/NAME.yaml``, or an error listing the configurations there are."""
    path = configs / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in configs.glob("*.yaml")))
        raise PipelineError(f"no configuration {name!r} in {configs}/; there are: {known}")
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise PipelineError(f"{path}: not valid YAML: {exc}") from None
    unknown = set(config) - {"description", "needs", "set", "remove"}
    if unknown:
        raise PipelineError(f"{path}: unknown keys {sorted(unknown)} (expected description, needs, set, remove)")
    return config


def inline_yaml(value) -> str:
    """``value`` as one line of flow-style YAML: ``15``, ``[50, 50]``, ``{type: flatten}``."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    return text.removesuffix("\n...")  # the end-of-document marker YAML adds after a scalar


def assignments(values: dict, params: dict | None, prefix: str = "") -> list[tuple[str, object]]:
    """``values`` as (dotted key, value) pairs onto ``params``: nested as deep as ``params``
    has mappings, whole below that (a section that is null or new is set in one piece)."""
    pairs: list[tuple[str, object]] = []
    for key, value in values.items():
        current = params.get(key) if isinstance(params, dict) else None
        if isinstance(value, dict) and isinstance(current, dict):
            pairs += assignments(value, current, f"{prefix}{key}.")
        else:
            pairs.append((f"{prefix}{key}", value))
    return pairs


def overrides(config: dict, params: dict, extra: list[str] = ()) -> list[str]:
    """The ``-S`` values for ``dvc exp run``: removals first, then every value set."""
    inline = [f"~{key}" for key in config.get("remove", [])]
    inline += [f"++{key}={inline_yaml(value)}" for key, value in assignments(config.get("set", {}), params)]
    return inline + [f"++{item}" for item in extra]


def apply(params: dict, config: dict, extra: list[str] = ()) -> dict:
    """What ``params.yaml`` becomes under ``config`` (for checking a configuration without running it).

    DVC's own code does it: the overrides ``dvc exp run -S`` would get (:func:`overrides`) go
    through ``dvc.utils.hydra.apply_overrides`` (Hydra's parser, DVC's YAML writer) on a copy
    of ``params`` in a temporary file, which is read back as the stages read ``params.yaml``.
    What is validated is what DVC will run; an override DVC would reject is a PipelineError.
    """
    import tempfile

    from dvc.exceptions import InvalidArgumentError
    from dvc.utils.cli_parse import to_path_overrides
    from dvc.utils.hydra import apply_overrides

    items = overrides(config, params, extra)
    by_path = to_path_overrides(items)  # as ``dvc exp run`` groups its -S values by file
    others = sorted(set(by_path) - {"params.yaml"})
    if others:
        raise PipelineError(f"overrides of files other than params.yaml are not supported: {others}")
    with tempfile.TemporaryDirectory(prefix="imgclf-params-") as tmp:
        path = Path(tmp) / "params.yaml"
        path.write_text(yaml.safe_dump(params, sort_keys=False))
        try:
            apply_overrides(path, by_path.get("params.yaml", []))
        except InvalidArgumentError as exc:
            cause = exc.__cause__ or exc
            raise PipelineError(f"dvc exp run -S would reject these overrides {items}: {cause}") from None
        return yaml.safe_load(path.read_text()) or {}


def exp_run_command(experiment: str, config: dict, params: dict, extra: list[str] = ()) -> list[str]:
    """``dvc exp run -n EXPERIMENT -S ...``: the configuration's overrides, then ``extra``."""
    command = ["dvc", "exp", "run", "-n", experiment]
    for item in overrides(config, params, extra):
        command += ["-S", item]
    return command


def main() -> None:
    parser = argparse.ArgumentParser(description="Run configs/NAME.yaml as a DVC experiment.")
    parser.add_argument("config", metavar="NAME")
    parser.add_argument("--name", help="the experiment's name (default: NAME); a variant needs its own")
    parser.add_argument("--set", dest="extra", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    config = load_config(args.config)
    params = yaml.safe_load(Path("params.yaml").read_text())
    parse_params(apply(params, config, args.extra), f"params.yaml with configs/{args.config}.yaml")
    command = exp_run_command(args.name or args.config, config, params, args.extra)
    print("running:", " ".join(command[:5]), f"({len(command[5:]) // 2} overrides)", flush=True)
    sys.exit(run_tool(command).returncode)


if __name__ == "__main__":
    run_stage(main)
