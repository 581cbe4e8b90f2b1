"""Where raw data come from: one module (or package) per source, each writing or reading the raw folder
layout of ``data/raw/README.md``; :mod:`pipeline.sources.raw` reads a pulled wave whatever its source."""
