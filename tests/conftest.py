"""Shared fixtures: every test starts with fresh automatic layer names."""

import pytest

from minicnn.utils import clear_session


@pytest.fixture(autouse=True)
def fresh_names():
    """Forget the names handed out by earlier tests, so the first Conv2D is 'conv2d'."""
    clear_session()
    yield
