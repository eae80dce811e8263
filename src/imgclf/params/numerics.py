"""The ``numerics`` section: what pins a stage's arithmetic so that any x86-64 machine gives the
same bits (the instruction set oneDNN may use, whether TensorFlow uses oneDNN's
kernels at all, OpenBLAS's kernel, thread counts)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from imgclf.params.base import Section


class NumericsParams(Section):
    """Numerical pins applied in every stage process before NumPy, scikit-learn or TensorFlow load."""

    portable: bool = Field(True, description="true: apply the pins below, so results are the same on every x86-64 "
                           "machine; false: each library's fastest choice for this CPU, and runs are marked machine-bound")
    onednn_max_isa: Literal["SSE41", "AVX", "AVX2"] = Field(
        "AVX2", description="the highest instruction set TensorFlow's oneDNN kernels may use (ONEDNN_MAX_CPU_ISA); "
        "AVX2: every x86-64 CPU of the last decade has it")
    onednn_opts: bool = Field(
        False, description="TensorFlow's oneDNN graph rewrites (TF_ENABLE_ONEDNN_OPTS). Left unset, TensorFlow "
        "turns them on by itself only on CPUs with AVX512_VNNI, AVX512_BF16 or AMX (a Zen 4 EPYC, a Cascade Lake "
        "Xeon), and a convolution then runs other kernels than on an older CPU of the same instruction set")
    openblas_coretype: Literal["Sandybridge", "Haswell"] = Field(
        "Haswell", description="OpenBLAS's kernel for scikit-learn and NumPy (OPENBLAS_CORETYPE); Haswell runs on "
        "every AVX2 CPU, Intel and AMD")
    intra_op_threads: PositiveInt = Field(1, description="threads inside one TensorFlow operation "
                                          "(TF_NUM_INTRAOP_THREADS); a fixed count, not one per core. 1: above it, "
                                          "oneDNN splits a sum between threads one way on Intel CPUs and another on AMD")
    inter_op_threads: PositiveInt = Field(1, description="TensorFlow operations run at once (TF_NUM_INTEROP_THREADS)")
    blas_threads: PositiveInt = Field(1, description="OpenBLAS threads (OPENBLAS_NUM_THREADS)")
    omp_threads: PositiveInt = Field(2, description="OpenMP threads (OMP_NUM_THREADS): scikit-learn's own loops")
