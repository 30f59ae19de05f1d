"""Models from elsewhere: an ONNX file plus a card that says what it takes and gives.

Cards in the YAML format of the EVOLAND project (its Sentinel-2 super-resolution models, which the EOMasters
Toolbox runs in SNAP) are read as they are:

    model: carn_light.onnx        # the ONNX file, beside the card
    bands: [B2, B3, B4, B8, B5, B6, B7, B8A, B11, B12]
    factor: 2.0                   # output pixels per input pixel
    margin: 32                    # output pixels cut from each side of a chunk

and the rest follows EVOLAND's convention: one input tensor `input` (N, bands, H, W) float32 holding the bands on
the 10 m grid (20 m bands cubic-resampled to it), or on the 20 m grid when the model takes no 10 m band; values in
DN; one output tensor `output` (N, bands, factor H, factor W): the same bands, factor times finer. Optional fields
the plugin also reads: `name`, `licence` (or `license`), `input`, `output` (tensor names) and `description`.
"""
import math
import os
from dataclasses import dataclass

import numpy as np

from ..core.bands import BANDS_10M, BANDS_20M, S2_ORDER, file_band_name
from ..core.errors import InputError, tr
from ..core.resample import GDAL, bicubic
from .network import Network

CARD_EXTENSIONS = (".yaml", ".yml")


@dataclass(frozen=True)
class Card:
    path: str  # the card file
    model: str  # the ONNX file
    name: str
    bands: tuple
    factor: int
    margin: int  # output pixels
    input: str = "input"
    output: str = "output"
    licence: str = "not stated in the card"
    description: str = ""

    @property
    def grid(self):
        """The input grid's pixel size relative to 10 m: 1 when the model takes a 10 m band, else 2."""
        return 1 if set(self.bands) & set(BANDS_10M) else 2

    @property
    def per_10m(self):
        """Output pixels per 10 m pixel (a side)."""
        return self.factor // self.grid

    @property
    def resolution(self):
        """The output's pixel size in metres."""
        return 10.0 / self.per_10m


def read_card(path):
    """Read a model card (YAML); InputError naming the card and the problem where it cannot be used."""
    import yaml

    try:
        with open(path) as f:
            fields = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as err:
        raise InputError(tr("cannot read the model card %s: %s") % (path, err)) from err
    if not isinstance(fields, dict) or not {"model", "bands", "factor"} <= set(fields):
        raise InputError(tr("the model card %s lacks 'model', 'bands' or 'factor'") % path)
    names = {file_band_name(b): b for b in S2_ORDER}
    bands = tuple(names.get(str(b).upper(), str(b).upper()) for b in fields["bands"])
    unknown = [b for b in bands if b not in BANDS_10M + BANDS_20M]
    if unknown or not bands:
        raise InputError(tr("the model card %s names bands this plugin cannot give a model: %s (it gives B2 B3 B4 "
                            "B8 and B5 B6 B7 B8A B11 B12)") % (path, " ".join(unknown) or "none"))
    factor = float(fields["factor"])
    grid = 1 if set(bands) & set(BANDS_10M) else 2
    if factor < grid or factor != int(factor) or factor % grid:
        raise InputError(tr("the model card %s has factor %g: the output must be on a grid nested in the 10 m one "
                            "(a whole factor, even for a model without 10 m bands)") % (path, factor))
    model = os.path.join(os.path.dirname(os.path.abspath(path)), str(fields["model"]))
    if not os.path.exists(model):
        raise InputError(tr("the model file %s of the card %s is missing: put it beside the card") % (model, path))
    return Card(path, model, str(fields.get("name") or os.path.splitext(os.path.basename(path))[0]), bands,
                int(factor), int(fields.get("margin", 0)), str(fields.get("input", "input")),
                str(fields.get("output", "output")),
                str(fields.get("licence") or fields.get("license") or Card.licence), str(fields.get("description", "")))


def is_card(model):
    """Whether `model` (what a run's model option holds) is a model card: a Card, or the path of a card file rather
    than a plugin model's name."""
    return isinstance(model, Card) or str(model or "").lower().endswith(CARD_EXTENSIONS)


def find_cards(folders):
    """{name: card path} of the cards (*.yaml, *.yml) in the folders (the first folder wins a name)."""
    found = {}
    for folder in folders:
        if os.path.isdir(folder):
            for entry in sorted(os.listdir(folder)):
                stem, ext = os.path.splitext(entry)
                if ext.lower() in CARD_EXTENSIONS:
                    found.setdefault(stem, os.path.join(folder, entry))
    return found


class CardNetwork(Network):
    """The model of a card, run by ONNX Runtime on the CPU (models.network.Network): called with the input bands in
    DN ({1: 10 m, 2: 20 m} arrays (N, bands, rows, cols) over the same area), it returns the card's bands `factor`
    times finer than the card's input grid, in DN."""

    def __init__(self, card, threads=0):
        try:
            import onnxruntime
        except ImportError as err:
            raise InputError(tr("the model of %s runs in ONNX Runtime, which is not installed: pip install "
                                "onnxruntime") % card.path) from err
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        self.card, self.bands, self.scale, self.per_10m = card, card.bands, card.factor, card.per_10m
        self.session = onnxruntime.InferenceSession(card.model, options, providers=["CPUExecutionProvider"])
        names = ([i.name for i in self.session.get_inputs()], [o.name for o in self.session.get_outputs()])
        if card.input not in names[0] or card.output not in names[1]:
            raise InputError(tr("the model %s has inputs %s and outputs %s, not the card's %s and %s")
                             % (card.model, names[0], names[1], card.input, card.output))
        self.margin = math.ceil(card.margin / card.factor) * card.grid  # 10 m pixels
        self.version = "%s (%s)" % (os.path.basename(card.model), card.licence)

    def __call__(self, arrays, stats=None):
        planes = []
        for band in self.bands:
            native = 1 if band in BANDS_10M else 2
            plane = arrays[native][:, (BANDS_10M if native == 1 else BANDS_20M).index(band)][:, None]
            if native != self.card.grid:
                plane = bicubic(plane, native // self.card.grid, GDAL)  # as EVOLAND's own inference resamples
            planes.append(plane)
        batch = np.ascontiguousarray(np.concatenate(planes, 1), dtype=np.float32)
        return self.session.run([self.card.output], {self.card.input: batch})[0]
