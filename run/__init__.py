"""The run floor, above the models: a super-resolution run over GDAL windows (`pipeline`), the self-check on the user's
scene (`selfcheck`) and the evaluation by the Wald protocol (`evaluation`). They open models through `models` and
stand on the model-free `core`."""
