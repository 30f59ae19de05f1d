"""Sentinel-2 band names, groups and output order."""
import re

BANDS_10M = ("B2", "B3", "B4", "B8")
BANDS_20M = ("B5", "B6", "B7", "B8A", "B11", "B12")
BANDS_60M = ("B1", "B9")
S2_ORDER = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B11", "B12")

#: bands of each input group, keyed by its pixel size relative to the 10 m grid
GROUPS = {1: BANDS_10M, 2: BANDS_20M, 6: BANDS_60M}


def file_band_name(band):
    """'B2' -> 'B02' (the spelling used in Sentinel-2 file names); 'B8A' stays."""
    return band if band == "B8A" else "B%02d" % int(band[1:])


def pixel_factor(band):
    """A band's pixel size relative to 10 m: 1, 2 or 6."""
    return next(f for f, names in GROUPS.items() if band in names)


def output_order(bands):
    """Sort band names into Sentinel-2 order."""
    return sorted(bands, key=S2_ORDER.index)


#: a band token in a file name or description: B02, B2, b8a, ..._B11.jp2, T33UUU_..._B05_20m.jp2
BAND_TOKEN = re.compile(r"(?:^|[^A-Za-z0-9])B(0?[1-9]|1[0-2]|8A)(?![A-Za-z0-9])", re.IGNORECASE)


def band_in(text):
    """The Sentinel-2 band named in a file name or description ('B8A', 'B2', ...), or None if none or several."""
    found = {("B8A" if m.upper() == "8A" else "B%d" % int(m)) for m in BAND_TOKEN.findall(text)}
    return found.pop() if len(found) == 1 else None
