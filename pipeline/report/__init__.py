"""The report stage: processed tables → ``reports/<study>/`` (HTML, Word, PDF, tables, exports).

=================  ==============================================================================
``build``          the edge: read, assemble, write (``build.build``)
``context``        :class:`Context`: study, language, tables; labels, formats, numbered tables
``model``          :class:`Block`, :class:`Table`, :class:`Figure`, :class:`Section`
``sections/``      one module per section, ``section(ctx) -> list[Block]``
``html``, ``docx`` the two renderers of the same model
``exports``        CSV/XLSX tables, SPSS/Stata files; ``network_export``: GraphML/GEXF/RSiena
``text``           number and date formats, the message catalogue (``locales/{id,en}.yaml``)
=================  ==============================================================================
"""

from .build import assemble, build

__all__ = ["build", "assemble"]
