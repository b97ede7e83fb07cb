"""Scripts run from the checkout (``python tools/NAME.py``); most are the command lines of
:mod:`mmproseco.pipeline`. ``tools.dataprep`` builds the embedded data of
``tools/prepare_data.py`` and is imported from the repository root as a package."""
