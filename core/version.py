"""The plugin version, read from metadata.txt (the one place it is written)."""
import configparser
import os

METADATA = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(__file__))), "metadata.txt")


def plugin_version():
    meta = configparser.ConfigParser()
    meta.read(METADATA)
    return meta.get("general", "version", fallback="unknown")
