"""Processing algorithms: thin adapters from QGIS parameters to the QGIS-free core."""
