"""One seeding helper, called at the top of every notebook and training run."""

from __future__ import annotations

import os
import random

import numpy as np

__all__ = ["set_seed"]


def set_seed(seed: int = 0) -> None:
    """Seed Python, numpy and the Keras backend so a run can be repeated."""
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed)
    try:
        import keras
    except ImportError:  # data-only use without Keras installed
        return
    keras.utils.set_random_seed(seed)
