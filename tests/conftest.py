"""Shared fixtures and the hypothesis profiles.

``make test`` (and CI) runs hypothesis derandomized, so a green commit stays green: the
examples are the same every run. To search further, draw fresh random examples:
``pytest --hypothesis-profile=explore`` (repeat it; tests that set no ``max_examples`` also
get more of them).
"""

import pytest
from hypothesis import settings

from minicnn.utils import clear_session, set_random_seed

settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False, max_examples=1000)
settings.load_profile("default")


@pytest.fixture(autouse=True)
def fresh_session():
    """Forget the names handed out by earlier tests, so the first Conv2D is 'conv2d', and
    seed minicnn's generator, so initial weights (and so every test) are the same each run:
    a finite-difference check on a random ReLU/max-pool stack can land on a kink by chance,
    and CI must not depend on that chance."""
    clear_session()
    set_random_seed(0)
    yield
