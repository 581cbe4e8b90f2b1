"""KoboToolbox: the API client, the pull and the deploy step (one module each).

=================================  ================================================================
module                             what
=================================  ================================================================
:mod:`~pipeline.sources.kobo.client`  the token, :class:`KoboClient` (timeouts, retries), the project list
:mod:`~pipeline.sources.kobo.pull`    ``make pull``: every wave's project into ``data/raw/<study>/``
:mod:`~pipeline.sources.kobo.deploy`  ``sinergi kobo deploy``: XLSForm + roster → a deployed project
=================================  ================================================================

The raw record files a pull writes and tidy reads are :mod:`pipeline.sources.raw`'s; website
exports are read by :mod:`pipeline.sources.kobo_files`.
"""
