"""hypothesis strategies for convolution and pooling configurations, shared by the
forward tests (test_ops.py) and the gradient checks (test_gradients.py)."""

from __future__ import annotations

from hypothesis import strategies as st

# Per rank: the largest kernel side, and how much larger than needed an input side may be,
# so that the naive loops stay fast in 3-D.
MAX_KERNEL = {1: 5, 2: 4, 3: 3}
EXTRA_LENGTH = {1: 6, 2: 4, 3: 2}


@st.composite
def conv_cases(draw, max_rank: int = 3, paddings=("valid", "same", "causal")) -> dict:
    """Any rank, padding, kernel, strides, dilation and groups, batch and channel count.

    Under ``same``/``causal`` the input may be smaller than the (dilated) kernel; under
    ``valid`` it is at least as large, since Keras rejects the rest at the layer.
    """
    rank = draw(st.integers(1, max_rank))
    padding = draw(st.sampled_from(paddings))
    kernel_size, strides, dilation, spatial = [], [], [], []
    for _ in range(rank):
        k = draw(st.integers(1, MAX_KERNEL[rank]))
        d = draw(st.integers(1, 3))
        low = d * (k - 1) + 1 if padding == "valid" else 1
        kernel_size.append(k)
        dilation.append(d)
        strides.append(draw(st.integers(1, 3)))
        spatial.append(draw(st.integers(low, low + EXTRA_LENGTH[rank])))
    groups = draw(st.integers(1, 3))
    in_channels = groups * draw(st.integers(1, 2))
    filters = groups * draw(st.integers(1, 2))
    return {
        "x_shape": (draw(st.integers(1, 2)), *spatial, in_channels),
        "kernel_shape": (*kernel_size, in_channels // groups, filters),
        "strides": tuple(strides),
        "padding": padding,
        "dilation": tuple(dilation),
        "groups": groups,
        "seed": draw(st.integers(0, 2**31)),
    }


@st.composite
def pool_cases(draw, max_rank: int = 3) -> dict:
    """Max or average pooling of any rank with valid or same padding and any strides."""
    rank = draw(st.integers(1, max_rank))
    padding = draw(st.sampled_from(["valid", "same"]))
    pool_size = tuple(draw(st.integers(1, MAX_KERNEL[rank])) for _ in range(rank))
    spatial = tuple(
        draw(st.integers(k if padding == "valid" else 1, k + EXTRA_LENGTH[rank])) for k in pool_size
    )
    return {
        "x_shape": (draw(st.integers(1, 2)), *spatial, draw(st.integers(1, 3))),
        "pool_size": pool_size,
        "strides": tuple(draw(st.integers(1, 3)) for _ in range(rank)),
        "padding": padding,
        "mode": draw(st.sampled_from(["max", "average"])),
        "seed": draw(st.integers(0, 2**31)),
    }
