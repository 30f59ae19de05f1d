"""What is fitted for one state of a network and stored with it (in its weight file and its ONNX export): the base
class, and the self-check's scale shift (`ScaleShift`, fitted by training.selfcheck). The confidence map's
`Calibration` is in core.confidence, beside the terms it weighs."""
from dataclasses import dataclass, fields


class Fitted:
    """What is fitted for one state of a network (a dataclass with its training `steps`) and stored with it as a
    dict (by `dataclasses.asdict`)."""

    @classmethod
    def stored(cls, items, steps):
        """The fit stored with a network (a dict, or None) if it was fitted for that state of the network (`steps`)
        by this plugin version (the same fields); else None."""
        if items and items.get("steps") == steps and set(items) == {f.name for f in fields(cls)}:
            return cls(**items)
        return None


@dataclass
class ScaleShift(Fitted):
    """How a network's lead over each classical method ("hpf", "bicubic"; per band, dB) changed from the self-check's
    scale to the output's on the scenes named by `source` (`shift`: the mean change, `spread`: its standard
    deviation over those scenes), fitted for the network's state after `steps` training steps."""
    scale: int
    shift: dict
    spread: dict
    source: str
    steps: int
