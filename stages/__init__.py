"""DVC stages: each module is a thin ``main()`` run as ``python -m stages.<name>``.

A stage imports ``imgclf`` from the ``src/`` beside it, not from wherever the package was
installed: a queued experiment runs in DVC's temporary copy of the repository, and must run the
code that copy holds (the code DVC hashed), not the workspace's, which may have changed since.

Importing this package then pins the numerics of ``params.yaml`` before any stage imports
NumPy, scikit-learn or TensorFlow (see ``imgclf.numerics``).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from imgclf.numerics import pin_from_params_file  # noqa: E402

pin_from_params_file()
