"""DVC stages: each module is a thin ``main()`` run as ``python -m stages.<name>``.

Importing this package pins the numerics of ``params.yaml`` before any stage imports NumPy,
scikit-learn or TensorFlow (see ``imgclf.numerics``).
"""

from imgclf.numerics import pin_from_params_file

pin_from_params_file()
