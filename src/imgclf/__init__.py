"""imgclf: a declarative, reproducible image-classification pipeline (library half).

The DVC stages in ``stages/`` are thin wrappers around the plain functions in this package.
"""

import os as _os

# Quiet TensorFlow's C++ start-up chatter and pin Keras 3 to the TensorFlow backend. Set here,
# before any module of this package imports Keras.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
