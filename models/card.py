"""Model cards: what data, which command, how long, and the measured reduced-scale scores."""
import os

from ..core.bands import BANDS_20M, BANDS_60M

TEMPLATE = """# {name}

DSen2-style residual network (Lanaras et al. 2018) that super-resolves the {what} to 10 m,
guided by the 10 m bands B2 B3 B4 B8{extra}. It runs on the 20 m grid: the 10 m bands enter by
space-to-depth, the residual leaves by pixel shuffle and is added to the bicubic upsampling.

- Architecture: width {width}, {depth} ResBlocks (residual scaling 0.1, no batch norm), {params:,} parameters.
- Input scaling: DN / 2000. Loss: L1.
- Training data: OSCD (Daudt et al. 2018), the 14 sites of `train.txt`, both dates, L1C, read from
  `../shared/data/oscd`. Wald protocol: every band blurred with a Gaussian of sigma 1/{scale} pixel and
  averaged over {scale}x{scale} blocks ({reduced}); the network learns to restore the originals.
  Augmentation: random crops, flips, 90-degree rotations.
- Command: `make data` then `make train` (which runs
  `python -m s2sr.training.train --scale {scale} --out models/{file}`; it resumes from this file).
- Training so far: {steps:,} steps, {minutes:.0f} minutes in {nruns} run(s): {runs}.

## Scores at reduced scale on the held-out OSCD test sites

{scenes} scenes (the 10 sites of `test.txt`, both dates), mean over scenes. Inputs degraded by {scale}
as in training, output compared with the original {native} bands.

{table}

Limits: trained on L1C top-of-atmosphere DN of 2015-2018, without the offset that products of processing
baseline 04.00 and later carry (RADIO_ADD_OFFSET / BOA_ADD_OFFSET = -1000: their DN are 1000 higher for
the same reflectance). The plugin reads the offset from the product metadata and removes it before the
network (PRODUCT input, or band files inside their product folder); other inputs are taken as they are.
Not trained on L2A. OSCD's bands were
resampled nearest-neighbour by its authors, so a few percent of pixels are shifted duplicates. Scores at
reduced scale assume the mapping is nearly scale-invariant; at full resolution there is no reference.
"""


def write_card(weights, ckpt):
    """Write <weights without .pt>.md from a checkpoint dict."""
    from ..training.evaluate import table

    cfg, rec = ckpt["config"], ckpt["record"]
    scale = cfg["scale"]
    runs = "; ".join("%s, %d steps, %d min, %d thread(s) on %s%s" % (
        r["date"], r["steps"], r["seconds"] / 60, r["threads"], r["device"],
        " in bfloat16 autocast" if r.get("precision") == "bfloat16" else "") for r in rec["runs"])
    text = TEMPLATE.format(
        name=os.path.basename(weights),
        what="20 m bands (" + " ".join(BANDS_20M) + ")" if scale == 2 else "60 m bands (" + " ".join(BANDS_60M) + ")",
        extra=" and the 20 m bands" if scale == 6 else "",
        width=cfg["width"], depth=cfg["depth"],
        params=sum(v.numel() for v in ckpt["state_dict"].values()),
        scale=scale, reduced="10/20 m -> 20/40 m" if scale == 2 else "10/20/60 m -> 60/120/360 m",
        file=os.path.basename(weights), steps=rec["steps"], minutes=rec["seconds"] / 60,
        nruns=len(rec["runs"]), runs=runs, scenes=rec["scores"]["scenes"],
        native="20 m" if scale == 2 else "60 m", table=table(rec["scores"]),
    )
    with open(weights[:-3] + ".md", "w") as f:
        f.write(text)
