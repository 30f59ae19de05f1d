"""QGIS glue: the plugin class and the Processing provider."""
