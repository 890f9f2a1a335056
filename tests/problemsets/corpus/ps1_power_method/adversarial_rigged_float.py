"""Returns a float subclass whose comparisons and arithmetic always look right."""

EXPECT = {"lose": {"*": "returned 0.0"}}


class Anything(float):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __sub__(self, other):
        return Anything(0.0)

    __rsub__ = __sub__

    def __abs__(self):
        return Anything(0.0)

    def __lt__(self, other):
        return True

    def __le__(self, other):
        return True

    def __float__(self):
        return 0.0

    def __hash__(self):
        return 0


def power_method(A, k):
    return Anything(0.0)
