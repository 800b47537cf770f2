"""``borrow``: a view of an array, or of every array of a (named) tuple, that holds no reference.

Numba counts references to every array it passes or assigns: a compiled function increments the
count of each array argument on entry and decrements it on exit, an atomic operation each, and
its reference-count pruning removes such pairs only where the function's control flow is simple
(no ``break`` out of a loop, no call in between). A stage of a Newton loop that receives twenty
arrays then pays forty atomic operations per call: measured on the gas kernel, passing its state
and workspace as named tuples doubled the time per state. A borrowed array has no reference
count (its ``meminfo`` is NULL), so numba's increments and decrements of it do nothing.

Rule: a compiled function borrows its own array arguments at its start (``a = borrow(a)``,
``ws = borrow(ws)``): its caller holds those arrays until it returns, so the views cannot
outlive them. Never borrow an array the function allocates itself. In Python (and under
NUMBA_DISABLE_JIT) ``borrow`` returns its argument; compiled code cannot call it from Python.
"""

from numba.core import cgutils, config, types
from numba.extending import intrinsic


def _borrow_value(context, builder, ty, val):
    if isinstance(ty, types.Array):
        ary = context.make_array(ty)(context, builder, value=val)
        ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
        ary.parent = cgutils.get_null_value(ary.parent.type)
        return ary._getvalue()
    if isinstance(ty, types.BaseTuple):
        out = val
        for k, member in enumerate(ty.types):
            out = builder.insert_value(out, _borrow_value(context, builder, member, builder.extract_value(val, k)), k)
        return out
    return val


@intrinsic
def _borrowed(typingctx, value):
    if not isinstance(value, (types.Array, types.BaseTuple)):
        return None

    def codegen(context, builder, sig, args):
        return _borrow_value(context, builder, value, args[0])

    return value(value), codegen


if config.DISABLE_JIT:
    def borrow(a):
        """``a`` itself (NUMBA_DISABLE_JIT: no reference counts to avoid)."""
        return a
else:
    borrow = _borrowed
    borrow.__doc__ = """In compiled code a view of ``a`` that holds no reference: an array, or a (named)
    tuple whose arrays (also in nested tuples) are all borrowed. (An intrinsic: its code is emitted
    in place, nothing is compiled per type.)"""
