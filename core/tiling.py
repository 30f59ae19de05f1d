"""Windows over the output grid.

The network always runs on the same blocks: cores of BLOCK x BLOCK 10 m pixels on a fixed grid anchored at
the output's origin, each read with a margin of context (clipped at the grid's edge). Every output pixel is
therefore computed from the same input window whatever the tile size, so the result does not depend on it,
and blocks leave no seams. Tiles group whole blocks for reading and writing: they set the I/O size only.
"""

BLOCK = 480  # 10 m pixels; a multiple of 6, so blocks hold whole 20 m and 60 m pixels
#: tile side (10 m pixels read and written at once) per device; 0 in settings means these. CPU: the fastest
#: in bench/speed.py (docs/benchmarks.md); CUDA: not measured yet (no GPU lent), the largest tile, as the
#: network is then no longer the bottleneck and fewer, larger reads and writes should pay
TILE_SIZES = {"cpu": 4 * BLOCK, "cuda": 8 * BLOCK}
MAX_TILE = 8 * BLOCK  # larger tiles only cost memory (the result does not depend on the tile size)


def _round(value, step, up=False):
    return -(-value // step) * step if up else max(step, value - value % step)


def _with_margin(plan, core, margin):
    """(core, read): the read window is the core grown by the margin, clipped to the grid."""
    row, col, rows, cols = core
    r0, c0 = max(0, row - margin), max(0, col - margin)
    r1, c1 = min(plan.rows, row + rows + margin), min(plan.cols, col + cols + margin)
    return core, (r0, c0, r1 - r0, c1 - c0)


def grow(plan, core, margin):
    """The window (row, col, rows, cols) of a block's core with `margin` 10 m pixels of context around it (rounded up
    to whole coarse pixels), clipped to the grid."""
    return _with_margin(plan, core, _round(margin, plan.block, up=True))[1]


def blocks(plan, block, margin):
    """Yield (core, read) windows (row, col, rows, cols) of the compute blocks, in 10 m pixels."""
    block = _round(block, plan.block)
    margin = _round(margin, plan.block, up=True)
    for row in range(0, plan.rows, block):
        for col in range(0, plan.cols, block):
            yield _with_margin(plan, (row, col, min(block, plan.rows - row), min(block, plan.cols - col)), margin)


def split(plan, core):
    """The halves or quarters of a block's core (whole coarse pixels); [] if it cannot shrink."""
    def halves(start, size):
        half = size // 2 // plan.block * plan.block
        return [(start, half), (start + half, size - half)] if half else [(start, size)]

    rows, cols = halves(core[0], core[2]), halves(core[1], core[3])
    return [(r, c, n, m) for r, n in rows for c, m in cols] if len(rows) * len(cols) > 1 else []


def tiles(plan, size, block, margin):
    """Yield (read window of the tile, [(core, read) of its blocks]): squares of whole blocks for I/O."""
    block = _round(block, plan.block)
    per_side = max(1, size // block)
    groups = {}
    for core, read in blocks(plan, block, margin):
        groups.setdefault((core[0] // block // per_side, core[1] // block // per_side), []).append((core, read))
    for members in groups.values():
        r0 = min(read[0] for _, read in members)
        c0 = min(read[1] for _, read in members)
        r1 = max(read[0] + read[2] for _, read in members)
        c1 = max(read[1] + read[3] for _, read in members)
        yield (r0, c0, r1 - r0, c1 - c0), members
