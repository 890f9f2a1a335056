"""scikit-learn's randomized_svd (it reaches SciPy's SVD, and the notebook never spells scipy)."""

EXPECT = {"lose": {"*": "computes eigenvalues or singular values"}}

from sklearn.utils.extmath import randomized_svd


def power_method(A, k):
    _, s, _ = randomized_svd(A.double().numpy(), 1, random_state=0)
    return float(s[0])
