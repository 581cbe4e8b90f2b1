"""The report stage: processed tables → ``reports/<study>/`` (HTML, Word, PDF, tables, exports).

=================  ==============================================================================
``build``          the edge: read, assemble, write (``build.build``)
``context``        :class:`Context`: the study, the language, and a part per role:
``inputs``         :class:`Inputs`, the processed tables, read once
``words``          :class:`Words`, messages, numbers, names of waves, groups, dimensions, tie types
``shape``          :class:`StudyShape`, what the study is (waves with answers, groups, ties, …); its order
``numbering``      :class:`Numbering`, the numbered tables and figures
``columns``        :class:`Column` and :class:`Fmt`: a table's columns, declared
``model``          :class:`Block`, :class:`Table`, :class:`Figure`, :class:`Section`
``sections/``      one module per section, ``section(ctx) -> list[Block]``
``html``, ``docx`` the two renderers of the same model
``exports``        CSV/XLSX tables, SPSS/Stata files; ``network_export``: GraphML/GEXF/RSiena
``text``           number and date formats, the message catalogue (``locales/{id,en}.yaml``)
=================  ==============================================================================
"""

from .build import assemble, build

__all__ = ["build", "assemble"]
