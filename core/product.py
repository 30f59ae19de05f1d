"""The inputs of one Sentinel-2 scene as a `Product`: an L1C or L2A product as downloaded (.SAFE folder, its
metadata file, or the .zip, read through GDAL's SENTINEL2 driver and its 10/20/60 m subdatasets), or the
single-band files of a scene."""
import os
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field

from osgeo import gdal

from .bands import BANDS_10M, BANDS_20M, GROUPS, band_in
from .errors import InputError, tr
from .cloud_detector import BANDS as CLOUD_BANDS
from .gdal_calls import checked
from .raster import stack_bands

#: product metadata files: compact naming (since 2016), and the older S2A_OPER_MTD_SAFL1C_....xml
METADATA_FILE = re.compile(r"^(MTD_MSIL(1C|2A)|S2[A-D]_(OPER|USER)_MTD_SAFL(1C|2A)_.*)\.xml$", re.IGNORECASE)
#: ESA's band order, which the band_id attributes of the product metadata index
BAND_IDS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")
#: metadata elements holding the DN offset of processing baseline 04.00 and later
OFFSET_TAGS = ("RADIO_ADD_OFFSET", "BOA_ADD_OFFSET")
TILE = re.compile(r"_T(\d{2}[A-Z]{3})_")
RASTER_EXTENSIONS = (".jp2", ".tif", ".tiff", ".vrt")  # band files in a folder


@dataclass
class Product:
    """What the pipeline needs from a product: band stacks, offsets, the L2A no-data mask and metadata."""
    stacks: dict  # factor -> VRT with the group's bands in order (6 -> None when the product has no 60 m bands)
    offsets: dict = field(default_factory=dict)  # band -> DN offset (e.g. -1000), empty before baseline 04.00
    valid_mask: str = None  # L2A: the scene classification on the 20 m grid; its class 0 marks no data
    cloud_bands: str = None  # L1C: a VRT of core.cloud_detector's ten bands on the 60 m grid
    metadata: dict = field(default_factory=dict)  # output metadata items describing the source product

    @classmethod
    def from_stacks(cls, input_10m, input_20m, input_60m=None, **items):
        """The scene of band stacks: rasters with the 10 m bands (B2 B3 B4 B8), the 20 m bands (B5 B6 B7 B8A B11
        B12) and, optionally, the 60 m bands (B1 B9), in that order; `items`: the other fields."""
        return cls({1: input_10m, 2: input_20m, 6: input_60m}, **items)


def metadata_file(path):
    """The product metadata file (GDAL path) of a .SAFE folder, a metadata file or a product .zip."""
    if os.path.isdir(path):
        found = _find_metadata(path, os.listdir(path))
    elif path.lower().endswith(".zip"):
        root = "/vsizip/" + os.path.abspath(path)
        found = _find_metadata(root, gdal.ReadDir(root) or [])
        if found is None:  # the usual zip holds one .SAFE folder
            found = next((f for d in gdal.ReadDir(root) or [] if d.upper().endswith(".SAFE")
                          for f in [_find_metadata(root + "/" + d, gdal.ReadDir(root + "/" + d) or [])] if f), None)
    else:
        found = path if os.path.isfile(path) and path.lower().endswith(".xml") else None
    if found is None:
        raise InputError(tr("%s is not a Sentinel-2 L1C or L2A product: give its .SAFE folder, the MTD_MSIL1C.xml or "
                            "MTD_MSIL2A.xml in it, or the product .zip as downloaded") % path)
    return found


def _find_metadata(folder, names):
    return next(("%s/%s" % (folder, n) for n in sorted(names) if METADATA_FILE.match(n)), None)


def is_product(path):
    """A .SAFE folder, a product .zip or a product metadata file (else: a folder of band files)."""
    return (not os.path.isdir(path) or path.rstrip("/\\").upper().endswith(".SAFE")
            or any(METADATA_FILE.match(n) for n in os.listdir(path)))


def open_path(path, folder="/vsimem/s2sr"):
    """A product (`is_product`) or a folder of one scene's single-band files as a Product (VRTs in `folder`)."""
    if not os.path.exists(path):
        raise InputError(tr("the input %s does not exist") % path)
    if is_product(path):
        return open_product(path, folder)
    files = sorted(os.path.join(path, n) for n in os.listdir(path) if n.lower().endswith(RASTER_EXTENSIONS))
    if not files:
        raise InputError(tr("the folder %s holds neither a Sentinel-2 product nor band files (.jp2, .tif)") % path)
    return band_files(files, folder)


def open_product(path, folder="/vsimem/s2sr"):
    """Open a product and stack its 10/20/60 m bands as VRTs in `folder` (nothing is copied)."""
    mtd = metadata_file(path)
    what = tr("GDAL's SENTINEL2 driver cannot open the product %s") % path
    ds = checked(what, gdal.Open, mtd)
    if ds.GetDriver().ShortName != "SENTINEL2":
        raise InputError(tr("%s: it opens as %s") % (what, ds.GetDriver().ShortName))
    info = ds.GetMetadata()
    subdatasets = _subdatasets(ds, path)
    stacks, valid_mask, located = {}, None, {}
    for factor, bands in GROUPS.items():
        if factor not in subdatasets:
            if factor == 6:
                stacks[6] = None
                continue
            raise InputError(tr("the product %s has no %d m bands") % (path, 10 * factor))
        sub = checked(tr("cannot read the %d m bands of the product %s") % (10 * factor, path), gdal.Open,
                      subdatasets[factor])
        index = {sub.GetRasterBand(i).GetMetadataItem("BANDNAME"): i for i in range(1, sub.RasterCount + 1)}
        located.update({b: (sub, i) for b, i in index.items()})
        missing = [b for b in bands if b not in index]
        if missing:
            raise InputError(tr("the product %s lacks band(s) %s") % (path, " ".join(missing)))
        stacks[factor] = _select(sub, [index[b] for b in bands], "%s/%dm.vrt" % (folder, 10 * factor))
        if factor == 2 and "SCL" in index:
            valid_mask = _select(sub, [index["SCL"]], "%s/scl.vrt" % folder)
    cloud_bands = None
    if valid_mask is None and all(b in located for b in CLOUD_BANDS):
        single = [_select(located[b][0], [located[b][1]], "%s/cloud_%s.vrt" % (folder, b)) for b in CLOUD_BANDS]
        cloud_bands = stack_bands(single, "%s/clouds.vrt" % folder, resolution="lowest", resampleAlg="average")
    return Product(stacks, read_offsets(mtd), valid_mask, cloud_bands, describe(info, path))


def _subdatasets(ds, path):
    """factor -> subdataset name, all in the CRS of the first 10 m subdataset (a product has one UTM zone)."""
    names = [v for k, v in ds.GetMetadata("SUBDATASETS").items() if k.endswith("_NAME")]
    first = next((n for n in names if ":10m:" in n), None)
    if first is None:
        raise InputError(tr("the product %s has no 10 m bands") % path)
    crs = first.rsplit(":", 1)[1]
    return {f: n for f in GROUPS for n in names if n.endswith(":%dm:%s" % (10 * f, crs))}


def _select(ds, band_list, vrt_path):
    vrt = checked(tr("cannot read %s") % ds.GetDescription(), gdal.Translate, vrt_path, ds, format="VRT",
                  bandList=band_list)
    vrt.FlushCache()
    return vrt_path


def read_offsets(mtd):
    """band -> DN offset declared in the product metadata (RADIO_ADD_OFFSET in L1C, BOA_ADD_OFFSET in L2A);
    empty for products before processing baseline 04.00, which have none."""
    what = tr("cannot read the product metadata %s") % mtd
    f = checked(what, gdal.VSIFOpenL, mtd, "rb")
    try:
        size = checked(what, gdal.VSIStatL, mtd).size
        root = ElementTree.fromstring(checked(what, gdal.VSIFReadL, 1, size, f))
    except ElementTree.ParseError as err:
        raise InputError(tr("the product metadata %s is not valid XML: %s") % (mtd, err)) from err
    finally:
        gdal.VSIFCloseL(f)
    offsets = {}
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] in OFFSET_TAGS:
            offsets[BAND_IDS[int(element.get("band_id"))]] = float(element.text)
    return offsets


def band_files(paths, folder="/vsimem/s2sr"):
    """Stack single-band rasters into 10/20/60 m VRTs by the band each one's name or description gives.

    The 60 m stack needs both B1 and B9. Refuses rasters whose band cannot be told and names any missing
    band. Files inside a product folder get the offsets its metadata declares.
    """
    found = {}
    for path in paths:
        ds = checked(tr("cannot read the band raster %s") % path, gdal.Open, path)
        band = band_in(os.path.basename(path)) or band_in(ds.GetRasterBand(1).GetDescription())
        if band is None or ds.RasterCount != 1:
            raise InputError(tr("cannot tell which Sentinel-2 band %s is: give single-band rasters whose file name "
                                "or description names the band (B02, B8A, ..._B11.jp2)") % path)
        if band in found:
            raise InputError(tr("band %s is given twice: %s and %s") % (band, found[band], path))
        found[band] = path
    missing = [b for b in BANDS_10M + BANDS_20M if b not in found]
    if missing:
        raise InputError(tr("missing band(s) %s among the band rasters") % " ".join(missing))
    stacks = {6: None}
    for factor, bands in GROUPS.items():
        if all(b in found for b in bands):
            stacks[factor] = stack_bands([found[b] for b in bands], "%s/%dm.vrt" % (folder, 10 * factor))
    offsets = {b: offsets_beside(p).get(b, 0.0) for b, p in found.items()}
    return Product(stacks, {b: v for b, v in offsets.items() if v})


def offsets_beside(path):
    """Offsets of the product a band file sits in (its .SAFE folder up to four levels above), else {}."""
    folder = os.path.dirname(os.path.abspath(path))
    for _ in range(5):
        found = _find_metadata(folder, os.listdir(folder)) if os.path.isdir(folder) else None
        if found:
            return read_offsets(found)
        folder = os.path.dirname(folder)
    return {}


def describe(info, path):
    """Output metadata items naming the source product."""
    name = info.get("PRODUCT_URI") or os.path.basename(os.path.normpath(path))
    tile = TILE.search(name)
    items = {
        "S2SR_SOURCES": name,
        "S2SR_PRODUCT": name,
        "S2SR_TILE": tile.group(1) if tile else "",
        "S2SR_SENSING_TIME": info.get("DATATAKE_1_DATATAKE_SENSING_START") or info.get("PRODUCT_START_TIME", ""),
        "S2SR_PROCESSING_LEVEL": info.get("PROCESSING_LEVEL", ""),
        "S2SR_PROCESSING_BASELINE": info.get("PROCESSING_BASELINE", ""),
    }
    return {k: v for k, v in items.items() if v}
