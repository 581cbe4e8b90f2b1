"""The analysis stages: pure functions from the canonical tables to result tables (one module per stage;
``reml`` is the mixed model's fit shared by ``prepost`` and ``district``)."""
