"""Overlapping windows over the output grid, so that tiles leave no seams."""


def tiles(plan, size, margin):
    """Yield (core, read) windows (row, col, rows, cols) in 10 m pixels.

    Cores cover the grid without overlap; each read window adds `margin` pixels of context on every side
    (clipped at the grid's edge). Sizes and margins are rounded to whole coarse pixels (plan.block).
    """
    b = plan.block
    size = max(b, size - size % b)
    margin = -(-margin // b) * b
    for row in range(0, plan.rows, size):
        for col in range(0, plan.cols, size):
            rows, cols = min(size, plan.rows - row), min(size, plan.cols - col)
            r0, c0 = max(0, row - margin), max(0, col - margin)
            r1, c1 = min(plan.rows, row + rows + margin), min(plan.cols, col + cols + margin)
            yield (row, col, rows, cols), (r0, c0, r1 - r0, c1 - c0)
