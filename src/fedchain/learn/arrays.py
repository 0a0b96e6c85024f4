"""Array types of the learning layer's data."""

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
LabelArray = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.int64]
