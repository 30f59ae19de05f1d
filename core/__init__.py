"""QGIS-free core: band bookkeeping, GDAL windows, tiled inference, metrics, writing."""
