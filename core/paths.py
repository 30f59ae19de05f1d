"""Where the plugin's files are: its folder, the resources (icon, styles) and the private folder of the Python
packages installed for it."""
import os

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESOURCES_DIR = os.path.join(PLUGIN_DIR, "resources")
ICON_PATH = os.path.join(RESOURCES_DIR, "icon.svg")
#: private folder for Python dependencies installed for this plugin (e.g. PyTorch's CPU build)
DEPS_DIR = os.path.join(PLUGIN_DIR, "deps")
