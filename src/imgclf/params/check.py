"""``python -m imgclf.params.check [FILE]``: validate ``params.yaml`` before ``dvc repro`` starts.

DVC deletes a stage's outputs before it runs the stage, so a typo that the stage itself reports
has already cost the workspace that stage's model (the next good ``dvc repro`` brings it back from
the cache). ``make repro`` runs this check first: a bad file stops it with the key named, before
DVC touches anything.
"""

import sys

from imgclf.errors import run_stage
from imgclf.params.pipeline import load_params


def main() -> None:
    load_params(sys.argv[1] if len(sys.argv) > 1 else "params.yaml")


if __name__ == "__main__":
    run_stage(main)
