"""Training and evaluation by the Wald protocol on the OSCD scenes in ../shared/data."""
