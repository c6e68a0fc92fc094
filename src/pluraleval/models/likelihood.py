"""The ordered-logit likelihood as one fused PyTensor Op.

PyMC's ``OrderedLogistic`` builds every category probability (an N × K matrix, joins and
2-D gathers) and differentiates through it; on a 20k-judgment study that is ~85% of a gradient
(``benchmarks/README.md``). Here one pass over the judgments computes the log-probability of
the observed category only, with its derivatives (two exponentials and a logarithm per
judgment), and one cheap pass scatters the gradient. The loops are numba kernels, so the
same code runs under PyTensor's default backend (``perform``) and inside nutpie's compiled
numba graph (``numba_funcify``).

For judgment ``i`` with rating ``y`` (0-based), linear predictor ``eta``, inverse scale ``w``
and cutpoint set ``s = cut_index[i]``: ``a = w (c[s, y] - eta)``, ``b = w (c[s, y-1] - eta)``
(``c[s, -1] = -inf``, ``c[s, K-1] = +inf``) and

    log p = log(sigmoid(a) - sigmoid(b)),

the difference taken between the two smaller tail probabilities (``sigmoid(-b) - sigmoid(-a)``
when both distances are positive), which keeps its relative precision in either tail.
"""

from __future__ import annotations

import functools
import inspect
import math
import zlib

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

__all__ = ["ordered_logit_logp"]

LIMIT = 700.0  # exp(700) is finite; sigmoid(±700) is 1 or 0 in double precision


@numba.njit(error_model="numpy")
def _logp_kernel(eta, w, cuts, cut_index, y):
    """Log-probabilities and their derivatives with respect to ``a`` and ``b``."""
    n, top = eta.shape[0], cuts.shape[1]
    logp, d_a, d_b = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        k, s = y[i], cut_index[i]
        # end categories: the infinite cutpoint's sigmoids are exactly 1 and 0; finite
        # distances beyond +-LIMIT are clipped so nothing overflows (exact again below for the
        # end categories; a middle category that far out stays clipped)
        sa, sna, snb, sb = 1.0, 0.0, 1.0, 0.0
        a, b = math.inf, -math.inf
        if k < top:
            a = w[i] * (cuts[s, k] - eta[i])
            ea = math.exp(-max(a, -LIMIT))
            sa = 1.0 / (1.0 + ea)  # sigmoid(a); sigmoid(-a) = ea * sa
            sna = ea * sa
        if k > 0:
            b = w[i] * (cuts[s, k - 1] - eta[i])
            eb = math.exp(min(b, LIMIT))
            snb = 1.0 / (1.0 + eb)  # sigmoid(-b); sigmoid(b) = eb * snb
            sb = eb * snb
        # the difference of the two smaller tail probabilities keeps its precision
        diff = snb - sna if b >= 0 else sa - sb
        logp[i] = math.log(diff)
        inv = 1.0 / diff
        d_a[i] = sa * sna * inv
        d_b[i] = -sb * snb * inv
        if k == 0 and a < -LIMIT:  # end categories beyond the limit: log sigmoid(a) = a
            logp[i], d_a[i], d_b[i] = a, 1.0, 0.0
        elif k == top and b > LIMIT:
            logp[i], d_a[i], d_b[i] = -b, 0.0, -1.0
    return logp, d_a, d_b


@numba.njit(error_model="numpy")
def _pullback_kernel(eta, w, cuts, cut_index, y, d_a, d_b, g):
    n, top = eta.shape[0], cuts.shape[1]
    d_eta, d_w, d_cuts = np.empty(n), np.empty(n), np.zeros(cuts.shape)
    for i in range(n):
        k, s = y[i], cut_index[i]
        xa = cuts[s, k] - eta[i] if k < top else 0.0
        xb = cuts[s, k - 1] - eta[i] if k > 0 else 0.0
        ga, gb = g[i] * d_a[i], g[i] * d_b[i]
        d_eta[i] = -w[i] * (ga + gb)
        d_w[i] = ga * xa + gb * xb
        if k < top:
            d_cuts[s, k] += w[i] * ga
        if k > 0:
            d_cuts[s, k - 1] += w[i] * gb
    return d_eta, d_w, d_cuts


def _inputs(eta, inv_scale, cuts, cut_index, rating) -> list:
    return [pt.as_tensor_variable(eta, dtype="float64"),
            pt.as_tensor_variable(inv_scale, dtype="float64"),
            pt.as_tensor_variable(cuts, dtype="float64"),
            pt.as_tensor_variable(cut_index, dtype="int64"),
            pt.as_tensor_variable(rating, dtype="int64")]


class OrderedLogitLogp(Op):
    """Pointwise log-probability of observed ordinal ratings (see the module docstring).

    Outputs ``(logp, d_a, d_b)``: the derivatives with respect to the two cutpoint distances
    come out of the same pass (they share its exponentials) and feed the pullback.
    """

    __props__ = ()

    def make_node(self, eta, inv_scale, cuts, cut_index, rating):
        inputs = _inputs(eta, inv_scale, cuts, cut_index, rating)
        return Apply(self, inputs, [pt.vector(dtype="float64") for _ in range(3)])

    def perform(self, node, inputs, output_storage):
        for store, value in zip(output_storage, _logp_kernel(*inputs), strict=True):
            store[0] = value

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]] * 3

    def pullback(self, inputs, outputs, output_grads):
        _, d_a, d_b = outputs
        d_eta, d_w, d_cuts = OrderedLogitPullback()(*inputs, d_a, d_b, output_grads[0])
        return [d_eta, d_w, d_cuts, disconnected_type(), disconnected_type()]

    def connection_pattern(self, node):
        return [[True, False, False]] * 3 + [[False, False, False]] * 2


class OrderedLogitPullback(Op):
    """Gradient of ``OrderedLogitLogp``'s log-probabilities (weighted by the output gradient
    ``g``) with respect to ``eta``, the inverse scale and the cutpoints."""

    __props__ = ()

    def make_node(self, eta, inv_scale, cuts, cut_index, rating, d_a, d_b, g):
        inputs = [*_inputs(eta, inv_scale, cuts, cut_index, rating),
                  *(pt.as_tensor_variable(v, dtype="float64") for v in (d_a, d_b, g))]
        return Apply(self, inputs, [pt.vector(dtype="float64"), pt.vector(dtype="float64"),
                                    pt.matrix(dtype="float64")])

    def perform(self, node, inputs, output_storage):
        for store, value in zip(output_storage, _pullback_kernel(*inputs), strict=True):
            store[0] = value

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0], input_shapes[0], input_shapes[2]]


@functools.cache
def _source_key(kernel) -> int:
    """Salt for PyTensor's on-disk numba cache: a changed kernel must not load a stale entry
    (the default key is the Op's class and props only)."""
    return zlib.crc32(inspect.getsource(kernel.py_func).encode())


@register_funcify_default_op_cache_key(OrderedLogitLogp)
def _numba_logp(op, node, **kwargs):
    return _logp_kernel, _source_key(_logp_kernel)


@register_funcify_default_op_cache_key(OrderedLogitPullback)
def _numba_pullback(op, node, **kwargs):
    return _pullback_kernel, _source_key(_pullback_kernel)


def ordered_logit_logp(rating, eta, cuts, *, cut_index=None, inv_scale=None):
    """Pointwise ordered-logit log-probability of ``rating`` (int codes ``0..K-1``).

    Parameters
    ----------
    rating : int tensor, shape (n,)
    eta : tensor, shape (n,)
        Linear predictor.
    cuts : tensor, shape (K-1,) or (sets, K-1)
        Ordered cutpoints; with several sets, ``cut_index`` picks each judgment's set.
    cut_index : int array, shape (n,), optional
    inv_scale : tensor, shape (n,), optional
        Multiplies both ``cutpoints - eta`` distances: the inverse of a per-judgment latent
        scale (contested outputs).

    Returns
    -------
    TensorVariable, shape (n,)
    """
    eta = pt.as_tensor_variable(eta)
    n = eta.shape[0]
    cuts = pt.as_tensor_variable(cuts)
    if cuts.ndim == 1:
        cuts = cuts[None, :]
    cut_index = pt.zeros(n, dtype="int64") if cut_index is None else cut_index
    inv_scale = pt.ones(n) if inv_scale is None else inv_scale
    return OrderedLogitLogp()(eta, inv_scale, cuts, cut_index, rating)[0]
