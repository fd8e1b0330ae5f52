"""Which labels look wrong, from out-of-fold probabilities (pure numpy, no Django).

Two views of the same matrix `probabilities[i, j]` (example i, class j) and the given class index `given[i]`:
- `label_quality`: the normalised margin p(given) - max p(other), in [-1, 1]; the lower, the more suspicious.
  Ranking by it is what the review queue and `label_issues` serve.
- `confident_issues`: confident learning's rule (Northcutt et al. 2021): per class j a threshold t_j, the mean
  p(j) over the examples labelled j; an example is an issue when some other class k has p(k) >= t_k and is the
  most likely of the classes above their thresholds. Used to count "likely label errors".
"""

import numpy as np


def label_quality(probabilities: np.ndarray, given: np.ndarray) -> np.ndarray:
    rows = np.arange(len(given))
    own = probabilities[rows, given]
    others = probabilities.copy()
    others[rows, given] = -np.inf
    return own - others.max(axis=1)


def class_thresholds(probabilities: np.ndarray, given: np.ndarray) -> np.ndarray:
    """t_j: the average self-confidence of the examples labelled j (1.0 for a class nobody has)."""
    thresholds = np.ones(probabilities.shape[1], dtype=np.float64)
    for j in np.unique(given):
        thresholds[j] = probabilities[given == j, j].mean()
    return thresholds


def confident_issues(probabilities: np.ndarray, given: np.ndarray) -> np.ndarray:
    """True where confident learning counts the example off the diagonal of its confident joint."""
    above = probabilities >= class_thresholds(probabilities, given)[None, :]
    masked = np.where(above, probabilities, -np.inf)
    confident = masked.argmax(axis=1)
    has_confident = above.any(axis=1)
    return has_confident & (confident != given)
