"""Many products on many machines: `python -m s2sr.batch INPUT... --out DIR` super-resolves every input as
`s2sr:superresolve` does, one output GeoTIFF per input, on Dask distributed (an embedded local cluster, or an
existing one with --scheduler). `inputs` finds the inputs and what identifies them, `jobs` runs one input (on a
worker), `runner` hands them to the cluster and writes the report; `__main__` is the command line."""
