"""sinergi: measure social capital among village UMKM owners before and after a program.

The command line (:mod:`pipeline.cli`, one command per ``make`` stage) is a thin edge over pure
functions; files are read and written at the edges (:mod:`pipeline.io`, the stages' ``run``,
:mod:`pipeline.report.build`). Where each concern lives:

=================================  ==================================================================
module                             what
=================================  ==================================================================
``cli``                            ``sinergi <stage>``: read inputs, call the stage, write outputs
``config``                         the study file (``study.yaml``), validated
``io``                             every user file read and written here (atomic writes, CSV rules)
``errors``                         :class:`~pipeline.errors.SinergiError`, the one-line user error
``outputs``                        each stage's files, named once; ``read_table`` reads them back
``schemas``                        the canonical tables' columns and value rules
``instrument``                     the instrument (``instruments/sinergi.yaml``), its XLSForm
``pull``                           stage 1: a source's raw data into ``data/raw/<study>/``
``sources.raw``                    reading a pulled wave folder (submissions, form versions, record store)
``sources.kobo``                   KoboToolbox: ``client`` (API), ``pull``, ``deploy``
``sources.kobo_files``             KoboToolbox export files
``sources.tables``                 a tables study's CSVs
``sources.odk``, ``google_forms``  ODK Central and Google Forms
``sources.demo``                   the demo study as KoboToolbox would serve it
``sources.xlsform_eval``           XLSForm relevance and calculations, as ODK evaluates them
``simulation``                     the village simulator (demo and power planning)
``roster``                         the one roster check (deploys)
``screening``                      which submissions count, and why not (tidy and monitor)
``pseudonym``, ``privacy``         respondent pseudonyms; personal columns held back
``tidy``                           stage 2: raw → canonical tables, quality log, sample flow
``analysis``                       stages 3+: ``scales``, ``network``, ``prepost`` (with ``reml``),
                                   ``district``, ``did``, ``invariance``, ``coverage``, ``plan``
``report``                         the report, handouts, tables and exports
``monitor``                        the fieldwork monitor
``parallel``                       where per-site work runs (serial, processes, Dask)
=================================  ==================================================================
"""

__version__ = "0.1.0"
